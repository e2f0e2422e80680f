using Stencil.Factory;

namespace Stencil.Runtime.Vm;

/// <summary>Gives a pod its VM: a template clone, one from the pool, or a cold boot (the factory decides).</summary>
public interface IPodVmProvider
{
    Task<IPodVm> StartAsync(PodVmRequest request, CancellationToken cancellationToken);

    /// <summary>A VM restored from a checkpoint in <paramref name="folder"/>, its disks from the given host files, running.</summary>
    Task<IPodVm> RestoreAsync(PodVmRequest request, VmCheckpoint checkpoint, string folder, IReadOnlyList<(VmCheckpointDisk Disk, string HostPath)> disks,
        CancellationToken cancellationToken);
}

/// <param name="Name">Names the VM in logs and errors ("pod default/abc").</param>
/// <param name="SharedDirectory">Host folder exported to the guest over 9p (mount tag <see cref="SharedMountTag"/>).</param>
/// <param name="RunDirectory">Host folder for the VM's sockets and console log (short: socket paths are limited to 108 bytes).</param>
public sealed record PodVmRequest(string Name, string SharedDirectory, string RunDirectory)
{
    public const string SharedMountTag = "stencil";
}
