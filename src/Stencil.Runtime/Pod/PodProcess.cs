using Stencil.Runtime.Lifecycle;

namespace Stencil.Runtime.Pod;

/// <summary>One process of a container: its init (ExecId "") or an exec'd one.</summary>
internal sealed class PodProcess
{
    public PodProcess(string containerId, string execId, StdioPaths stdio, ReadOnlyMemory<byte> processJson)
    {
        ContainerId = containerId;
        ExecId = execId;
        Stdio = stdio;
        ProcessJson = processJson;
        Lifecycle = new ProcessLifecycle(execId.Length == 0 ? $"container {containerId}" : $"exec {execId} of container {containerId}");
    }

    public string ContainerId { get; }

    public string ExecId { get; }

    /// <summary>The agent's name for it: null for the init process.</summary>
    public string? AgentExecId => ExecId.Length == 0 ? null : ExecId;

    public StdioPaths Stdio { get; }

    /// <summary>An exec's runtime-spec Process; empty for the init process.</summary>
    public ReadOnlyMemory<byte> ProcessJson { get; }

    public ProcessLifecycle Lifecycle { get; }

    /// <summary>The pid containerd is given: the pod holder's, a host process (<see cref="PodHolder"/>); known
    /// after create for init, after start for an exec. Never a guest pid.</summary>
    public uint Pid { get; set; }

    public StdioForwarder? Forwarder { get; set; }

    /// <summary>The task that waits for the exit in the agent and records it.</summary>
    public Task? Waiter { get; set; }
}
