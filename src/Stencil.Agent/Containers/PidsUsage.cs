namespace Stencil.Agent.Containers;

/// <summary>pids.current and pids.max (0 = no limit).</summary>
internal sealed record PidsUsage(ulong Current, ulong Limit);
