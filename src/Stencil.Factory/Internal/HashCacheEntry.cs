namespace Stencil.Factory.Internal;

/// <summary>One file's content hash, valid while the file keeps this size, inode and mtime.</summary>
internal sealed record HashCacheEntry
{
    public required string Path { get; init; }

    public long Size { get; init; }

    public ulong Inode { get; init; }

    public long MtimeSeconds { get; init; }

    public uint MtimeNanoseconds { get; init; }

    public required string Sha256 { get; init; }

    /// <summary>For the QEMU binary: its --version line, which costs a process start to learn.</summary>
    public string? Version { get; init; }

    public bool Matches(FileFacts facts) =>
        facts.Size == Size && facts.Inode == Inode && facts.MtimeSeconds == MtimeSeconds && facts.MtimeNanoseconds == MtimeNanoseconds;
}
