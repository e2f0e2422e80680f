namespace Stencil.Agent.Containers;

/// <summary>cpu.stat, in microseconds and CFS periods.</summary>
internal sealed record CpuUsage(ulong UsageUsec, ulong UserUsec, ulong SystemUsec, ulong NrPeriods, ulong NrThrottled, ulong ThrottledUsec);
