namespace Stencil.Runtime;

/// <summary>A task lifecycle event; the shim turns each into its containerd.events message and topic.</summary>
public abstract record RuntimeEvent(DateTimeOffset Timestamp);

public sealed record TaskCreated(DateTimeOffset Timestamp, string ContainerId, string Bundle, IReadOnlyList<MountSpec> Rootfs, StdioPaths Stdio, uint Pid) : RuntimeEvent(Timestamp);
public sealed record TaskStarted(DateTimeOffset Timestamp, string ContainerId, uint Pid) : RuntimeEvent(Timestamp);
public sealed record TaskExited(DateTimeOffset Timestamp, string ContainerId, string ExecId, uint Pid, uint ExitCode, DateTimeOffset ExitedAt) : RuntimeEvent(Timestamp);
public sealed record TaskDeleted(DateTimeOffset Timestamp, string ContainerId, uint Pid, uint ExitCode, DateTimeOffset ExitedAt) : RuntimeEvent(Timestamp);
public sealed record TaskExecAdded(DateTimeOffset Timestamp, string ContainerId, string ExecId) : RuntimeEvent(Timestamp);
public sealed record TaskExecStarted(DateTimeOffset Timestamp, string ContainerId, string ExecId, uint Pid) : RuntimeEvent(Timestamp);
public sealed record TaskPaused(DateTimeOffset Timestamp, string ContainerId) : RuntimeEvent(Timestamp);
public sealed record TaskResumed(DateTimeOffset Timestamp, string ContainerId) : RuntimeEvent(Timestamp);
public sealed record TaskOom(DateTimeOffset Timestamp, string ContainerId) : RuntimeEvent(Timestamp);
