namespace Stencil.Runtime.Configuration;

/// <summary>[runtime]: the shim itself.</summary>
public sealed record RuntimeConfig
{
    /// <summary>Root of the runtime's per-pod state on the host (see <see cref="StatePaths"/>); a tmpfs such as /run.</summary>
    public string StateDir { get; init; } = "/run/stencil";

    /// <summary>Where shim sockets are created (containerd's own shims use /run/containerd/s).</summary>
    public string ShimSocketDir { get; init; } = "/run/containerd/s";

    /// <summary>
    /// What a checkpoint keeps of the guest memory: "diff" (the pages the pod's VM wrote since it was cloned;
    /// restoring needs the very template it was cloned from) or "full" (every non-zero page: restores on
    /// any node with the same configuration and files).
    /// </summary>
    public string CheckpointMemory { get; init; } = "diff";

    /// <summary>Debug logging in the shim, as if containerd had passed -debug.</summary>
    public bool EnableDebug { get; init; }

    /// <summary>The shim daemon joins the pod's cgroup on the host too (QEMU always does), as Kata's option.</summary>
    public bool SandboxCgroupOnly { get; init; }

    /// <summary>What the pod's cgroup allows QEMU beyond the VM's memory, in MiB; 0: no limit of Stencil's.</summary>
    public int SandboxCgroupMemoryOverheadMiB { get; init; } = 1024;

    /// <summary>How the pod's network namespace reaches the VM: "tcfilter" (tap + tc mirred redirect) or "none".</summary>
    public string InternetworkingModel { get; init; } = "tcfilter";

    /// <summary>What serves a CRI pod's sandbox (pause) container in the guest: "holder" (the agent's namespace holder) or "runtime" (the image, run by crun).</summary>
    public string SandboxContainer { get; init; } = "holder";
}
