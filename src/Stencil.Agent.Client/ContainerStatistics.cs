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
    ulong IoWriteOps);
