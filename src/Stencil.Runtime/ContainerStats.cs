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
}
