using System.Runtime.InteropServices;
using Stencil.Agent.Client;
using Stencil.Factory;

namespace Stencil.Runtime.Vm;

/// <summary>
/// A running pod VM as the runtime uses it: its agent, and the device operations the runtime asks
/// for. The factory's VM is adapted to this (see <see cref="FactoryPodVmProvider"/>); unit tests use fakes.
/// Disposing it stops the VM.
/// </summary>
public interface IPodVm : IAsyncDisposable
{
    IAgentClient Agent { get; }

    /// <summary>
    /// The host folder the guest sees over 9p (mount tag <see cref="PodVmRequest.SharedMountTag"/>): where the
    /// runtime must put the pod's container root file systems. Usually the request's SharedDirectory; a VM
    /// handed over from the pool exports a folder of its own instead, because a clone's 9p export path is
    /// fixed on its QEMU command line when it starts, before any pod is known.
    /// </summary>
    string SharedDirectory { get; }

    /// <summary>QEMU's pid, for diagnostics and memory accounting.</summary>
    int? ProcessId { get; }

    /// <summary>How the VM came to be ("template", "pool", "cold boot") and how long it took.</summary>
    string Origin { get; }

    TimeSpan StartupTime { get; }

    /// <summary>Completes when the VM has stopped (also when it died unexpectedly).</summary>
    Task Exited { get; }

    /// <summary>Why the VM stopped, once <see cref="Exited"/> is complete ("qemu exited with code 1: ...").</summary>
    string? ExitReason { get; }

    /// <summary>Hot-plugs a host block device or image file as virtio-blk; returns the serial the guest finds it by.</summary>
    Task<string> AttachBlockDeviceAsync(string hostPath, bool readOnly, CancellationToken cancellationToken);

    Task DetachBlockDeviceAsync(string serial, CancellationToken cancellationToken);

    /// <summary>Hot-plugs a virtio-net NIC backed by the tap behind <paramref name="tapFd"/> (QEMU gets its own
    /// copy of the fd), with MAC address <paramref name="macAddress"/>.</summary>
    Task AddNetworkAsync(SafeHandle tapFd, string macAddress, CancellationToken cancellationToken);

    /// <summary>
    /// Pauses the VM and saves it into <paramref name="folder"/> (memory pages and device state); it stays
    /// paused: <see cref="ResumeAsync"/> or dispose it.
    /// </summary>
    Task<VmCheckpoint> CheckpointAsync(string folder, bool fullMemory, CancellationToken cancellationToken);

    /// <summary>Runs a VM paused by <see cref="CheckpointAsync"/> again.</summary>
    Task ResumeAsync(CancellationToken cancellationToken);

    /// <summary>Grows the VM to at least this many vCPUs and MiB of memory (hot-add, then online in the guest).</summary>
    Task ResizeAsync(int vcpus, int memoryMiB, CancellationToken cancellationToken);
}
