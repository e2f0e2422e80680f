namespace Stencil.Runtime;

/// <summary>cgroup numbers read in the guest for one container.</summary>
public sealed record ContainerStats(
    ulong CpuUsageNanos,
    ulong CpuUserNanos,
    ulong CpuSystemNanos,
    ulong MemoryUsageBytes,
    ulong MemoryLimitBytes,
    ulong MemoryCacheBytes,
    ulong PidsCurrent,
    ulong PidsLimit,
    ulong IoReadBytes,
    ulong IoWriteBytes)
{
    /// <summary>Anonymous memory (cgroup v2 memory.stat "anon"): what cgroups v1 metrics call rss.</summary>
    public ulong MemoryRssBytes { get; init; }

    /// <summary>Page faults (minor and major) of the container's processes in the guest.</summary>
    public ulong MemoryPageFaults { get; init; }

    /// <summary>Page faults that read from storage.</summary>
    public ulong MemoryMajorPageFaults { get; init; }

    /// <summary>Reclaimable page cache: containerd's CRI takes it out of usage to get the working set.</summary>
    public ulong MemoryInactiveFileBytes { get; init; }
}
