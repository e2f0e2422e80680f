namespace Stencil.Factory.Internal;

/// <summary>
/// metadata.json of a template folder, written last: a folder without it is not a finished template.
/// The clones-served counter is not in here (every clone start would rewrite it under a lock); it is
/// the length of the "served" file, to which each clone appends one byte with O_APPEND.
/// </summary>
internal sealed record TemplateMetadata
{
    public int Format { get; init; } = TemplateFingerprint.FormatVersion;

    public required string Fingerprint { get; init; }

    public DateTimeOffset Created { get; init; }

    public double BuildSeconds { get; init; }

    public required string QemuBinary { get; init; }

    public required string QemuVersion { get; init; }

    public required string QemuSha256 { get; init; }

    public required string Kernel { get; init; }

    public required string KernelSha256 { get; init; }

    public string? Initrd { get; init; }

    public string? InitrdSha256 { get; init; }

    public required string Machine { get; init; }

    public required string Accelerator { get; init; }

    public int Vcpus { get; init; }

    public int MaxVcpus { get; init; }

    public int MemoryMiB { get; init; }

    public int MaxMemoryMiB { get; init; }

    public long MemoryFileBytes { get; init; }

    public long MemoryFileAllocatedBytes { get; init; }

    public long StateFileBytes { get; init; }

    /// <summary>Everything the fingerprint hashes, as text (see <see cref="TemplateFingerprint"/>).</summary>
    public required string FingerprintText { get; init; }

    /// <summary>The agent's version, as the template guest's agent reported it (null in templates built before it was kept).</summary>
    public string? AgentVersion { get; init; }

    /// <summary>The guest kernel's release (uname -r in the template guest).</summary>
    public string? GuestKernelRelease { get; init; }
}
