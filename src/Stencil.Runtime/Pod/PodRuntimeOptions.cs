using Stencil.Runtime.Configuration;

namespace Stencil.Runtime.Pod;

/// <param name="Namespace">containerd namespace.</param>
/// <param name="PodId">CRI sandbox id, or the lone container's id.</param>
public sealed record PodRuntimeOptions(string Namespace, string PodId, StatePaths Paths)
{
    /// <summary>How long output may keep flowing after a process exits (a child holding the pipe).</summary>
    public TimeSpan OutputDrainTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The exit code recorded for processes of a VM that died.</summary>
    public uint VmDiedExitCode { get; init; } = 255;
}
