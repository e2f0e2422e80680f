using Stencil.Agent.Processes;

namespace Stencil.Agent.Containers;

/// <summary>A container's init or exec'd process: its pid in the guest, its stdio, its exit.</summary>
internal sealed class GuestProcess(string containerId, string execId, int pid, ProcessIo io, Task<ExitStatus> exit)
{
    internal string ContainerId { get; } = containerId;

    /// <summary>"" for the init process.</summary>
    internal string ExecId { get; } = execId;

    internal int Pid { get; } = pid;

    internal ProcessIo Io { get; } = io;

    internal Task<ExitStatus> Exit { get; } = exit;

    internal bool HasExited => Exit.IsCompleted;

    internal string Describe() => ExecId.Length == 0
        ? $"init process of container \"{ContainerId}\""
        : $"exec \"{ExecId}\" of container \"{ContainerId}\"";
}
