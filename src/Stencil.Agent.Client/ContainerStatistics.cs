namespace Stencil.Agent.Client;

/// <summary>A container's cgroup v2 numbers in the guest. Limits of 0 mean "no limit".</summary>
public sealed record ContainerStatistics(
    ulong CpuUsageMicros,
    ulong CpuUserMicros,
    ulong CpuSystemMicros,
    ulong CpuPeriods,
    ulong CpuThrottledPeriods,
    ulong CpuThrottledMicros,
    ulong MemoryUsageBytes,
    ulong MemoryLimitBytes,
    ulong MemoryMaxUsageBytes,
    ulong MemoryAnonBytes,
    ulong MemoryFileBytes,
    ulong OomKills,
    ulong PidsCurrent,
    ulong PidsLimit,
    ulong IoReadBytes,
    ulong IoWriteBytes,
    ulong IoReadOps,
    ulong IoWriteOps)
{
    /// <summary>memory.stat pgfault: page faults of the container's processes, minor and major.</summary>
    public ulong MemoryPageFaults { get; init; }

    /// <summary>memory.stat pgmajfault: page faults that had to read from storage.</summary>
    public ulong MemoryMajorPageFaults { get; init; }

    /// <summary>memory.stat inactive_file: page cache the kernel can reclaim first (not in the working set).</summary>
    public ulong MemoryInactiveFileBytes { get; init; }
}
