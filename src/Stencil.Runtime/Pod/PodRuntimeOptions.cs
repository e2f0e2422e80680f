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

    /// <summary>
    /// Starts the pod's holder process (<see cref="PodHolder"/>), whose pid containerd is given. The seam
    /// for unit tests of the logic above the host (fake VMs and namespaces): without it the task pid is the
    /// guest's. Always on in the shim.
    /// </summary>
    public bool StartHolder { get; init; } = true;

    /// <summary>
    /// What the pod's cgroup on the host allows QEMU beyond the VM's memory, in MiB ([runtime]
    /// sandbox_cgroup_memory_overhead_mib; see <see cref="PodCgroup"/>). 0: no limit of Stencil's.
    /// </summary>
    public int CgroupMemoryOverheadMiB { get; init; } = 1024;

    /// <summary>The shim daemon joins the pod's cgroup too ([runtime] sandbox_cgroup_only), as Kata's.</summary>
    public bool SandboxCgroupOnly { get; init; }

    /// <summary>A CRI sandbox (pause) container is the agent's namespace holder ([runtime] sandbox_container = "holder").</summary>
    /// <summary>A checkpoint keeps all of the guest memory, not only what differs from the template ([runtime] checkpoint_memory = "full").</summary>
    public bool CheckpointFullMemory { get; init; }

    public bool HoldSandboxContainer { get; init; } = true;

    /// <summary>
    /// The guest mounts the pod's 9p share and every container's rootfs reaches it there ([hypervisor] shared_fs =
    /// "virtio-9p"). False (shared_fs = "none"): no share is mounted in the guest, each container's rootfs is an ext4
    /// image on a hot-plugged disk (<see cref="PodContainer.RootfsImage"/>), and host bind mounts are refused.
    /// </summary>
    public bool SharedFolder { get; init; } = true;

    /// <summary>Without <see cref="SharedFolder"/>: the least size of a container's rootfs image in MiB ([hypervisor] rootfs_image_mib).</summary>
    public int RootfsImageMiB { get; init; } = 1024;

    /// <summary>Where the cgroup hierarchies are mounted (a folder of fakes in unit tests).</summary>
    public string CgroupRoot { get; init; } = PodCgroup.DefaultRoot;

    /// <summary>
    /// How the shim watches a running pod's agent (Kata's shim does the same): a health check every
    /// <see cref="AgentHealthCheck.Interval"/>; after <see cref="AgentHealthCheck.Misses"/> unanswered in a row the
    /// link is closed and the pod fails, so an agent that reads but never answers cannot leave containers looking
    /// alive. Null: not watched.
    /// </summary>
    public AgentHealthCheck? AgentHealth { get; init; } = new();

    /// <summary>The exit code recorded for processes of a VM that died.</summary>
    public uint VmDiedExitCode { get; init; } = 255;
}

/// <summary>See <see cref="PodRuntimeOptions.AgentHealth"/>. Generous: a guest busy under TCG on a loaded node still answers well within it.</summary>
public sealed record AgentHealthCheck
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one check may take before it counts as unanswered.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public int Misses { get; init; } = 3;
}
