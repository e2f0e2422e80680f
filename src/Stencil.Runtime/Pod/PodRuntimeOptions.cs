using Stencil.Runtime.Configuration;

namespace Stencil.Runtime.Pod;

/// <param name="Namespace">containerd namespace.</param>
/// <param name="PodId">CRI sandbox id, or the lone container's id.</param>
public sealed record PodRuntimeOptions(string Namespace, string PodId, StatePaths Paths)
{
    /// <summary>How long output may keep flowing after a process exits (a child holding the pipe).</summary>
    public TimeSpan OutputDrainTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The VM's own size before any container's limits are added ([hypervisor] default_vcpus).</summary>
    public int BaseVcpus { get; init; } = 1;

    /// <summary>The VM's own memory in MiB before any container's limits are added ([hypervisor] default_memory).</summary>
    public int BaseMemoryMiB { get; init; } = 256;

    /// <summary>When the shim's `start` ran (the start of the pod's timeline); null: not known.</summary>
    public DateTimeOffset? ShimStartedAt { get; init; }

    /// <summary>Where each pod start's timeline is recorded (<see cref="StartRecords"/>); null: nowhere.</summary>
    public string? StartsDirectory { get; init; }

    /// <summary>The exit code recorded for processes of a VM that died.</summary>
    public uint VmDiedExitCode { get; init; } = 255;
}
