namespace Stencil.Factory;

/// <summary>
/// What a VM checkpoint needs to be restored (kept as JSON next to its files by the caller): the
/// template it was cloned from (the configuration's fingerprint, its text to name what differs, and
/// when the template was built: a rebuilt template has other memory), whether <see cref="MemoryFileName"/>
/// holds only the clone's own pages or the whole memory, the disks to plug back where they were,
/// and the agent link's next ttRPC stream id.
/// </summary>
public sealed record VmCheckpoint
{
    public const string MemoryFileName = "memory.pages";
    public const string DeviceStateFileName = "devices.state";

    /// <summary>"own": the pages the clone wrote (the rest are its template's). "full": every non-zero page.</summary>
    public required string Memory { get; init; }

    public required string TemplateFingerprint { get; init; }

    public required string FingerprintText { get; init; }

    /// <summary>When the template was built; null when the memory is full (no template needed).</summary>
    public DateTimeOffset? TemplateCreated { get; init; }

    public int MemoryMiB { get; init; }

    public long MemoryPages { get; init; }

    public required IReadOnlyList<VmCheckpointDisk> Disks { get; init; }

    public uint AgentNextStreamId { get; init; }

    public bool IsFullMemory => Memory == "full";
}

/// <param name="Serial">The serial the guest knows the disk by.</param>
/// <param name="RootPort">The pcie-root-port it sat on (its PCI address is in the saved device state).</param>
public sealed record VmCheckpointDisk(string Serial, string RootPort, bool ReadOnly);
