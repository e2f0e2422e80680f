namespace Stencil.Agent.Containers;

/// <summary>
/// memory.current (UsageBytes), memory.max (LimitBytes; 0 = no limit), memory.peak (MaxUsageBytes),
/// memory.events oom_kill (OomKills), and memory.stat anon, file, pgfault, pgmajfault, inactive_file.
/// </summary>
internal sealed record MemoryUsage(ulong UsageBytes, ulong LimitBytes, ulong MaxUsageBytes, ulong AnonBytes, ulong FileBytes,
    ulong OomKills, ulong PageFaults, ulong MajorPageFaults, ulong InactiveFileBytes);
