namespace Stencil.Runtime;

/// <param name="RootfsMounts">containerd's rootfs mounts (overlay, usually); empty: the bundle's rootfs is used as is.</param>
public sealed record CreateContainerRequest(
    string Id,
    string Bundle,
    IReadOnlyList<MountSpec> RootfsMounts,
    StdioPaths Stdio)
{
    /// <summary>A folder with a checkpoint to restore the container (and its pod's VM) from; null: a new container.</summary>
    public string? Checkpoint { get; init; }
}

/// <summary>A mount as containerd describes it.</summary>
public sealed record MountSpec(string Type, string Source, string Target, IReadOnlyList<string> Options);

/// <summary>FIFO paths from containerd; empty strings for streams not wanted.</summary>
public sealed record StdioPaths(string Stdin, string Stdout, string Stderr, bool Terminal);

/// <param name="ProcessJson">The runtime-spec Process as JSON (what `ctr task exec` sends).</param>
public sealed record ExecRequest(string Id, string ExecId, StdioPaths Stdio, ReadOnlyMemory<byte> ProcessJson);
