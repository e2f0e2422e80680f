namespace Stencil.Runtime;

/// <summary>The states containerd knows a task or process by (containerd.v1.types.Status).</summary>
public enum ProcessState
{
    Unknown = 0,
    Created = 1,
    Running = 2,
    Stopped = 3,
    Paused = 4,
    Pausing = 5,
}

public sealed record ProcessStatus(
    string Id,
    string ExecId,
    string Bundle,
    uint Pid,
    ProcessState State,
    StdioPaths Stdio,
    uint ExitCode,
    DateTimeOffset? ExitedAt);

/// <param name="ExitedAt">Null when the process has not exited (containerd shows Go's zero time).</param>
public sealed record ExitStatus(uint Pid, uint ExitCode, DateTimeOffset? ExitedAt);
