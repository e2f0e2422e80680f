namespace Stencil.Factory;

/// <summary>What a caller asks the factory for.</summary>
/// <param name="Name">Names the VM in logs and errors ("pod default/abc").</param>
/// <param name="RunDirectory">Folder for the VM's sockets, pid file and console log (short: a socket path is limited to 108 bytes).</param>
/// <param name="SharedDirectory">Host folder the guest sees over 9p; required when the description has a shared folder.
/// A VM from the pool exports its own folder instead: read <see cref="FactoryVm.SharedDirectory"/>.</param>
public sealed record VmRequest(string Name, string RunDirectory, string? SharedDirectory)
{
    /// <summary>Grow to at least this many vCPUs before handing the VM over; null: as booted.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Grow to at least this much memory (MiB) before handing the VM over; null: as booted.</summary>
    public int? MemoryMiB { get; init; }

    /// <summary>Whether a paused clone from the pool may serve this request (it comes with its own export folder).</summary>
    public bool AllowPool { get; init; } = true;
}
