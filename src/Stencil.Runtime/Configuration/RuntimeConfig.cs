namespace Stencil.Runtime.Configuration;

/// <summary>[runtime]: the shim itself.</summary>
public sealed record RuntimeConfig
{
    /// <summary>Root of the runtime's per-pod state on the host (see <see cref="StatePaths"/>); a tmpfs such as /run.</summary>
    public string StateDir { get; init; } = "/run/stencil";

    /// <summary>Where shim sockets are created (containerd's own shims use /run/containerd/s).</summary>
    public string ShimSocketDir { get; init; } = "/run/containerd/s";

    /// <summary>Debug logging in the shim, as if containerd had passed -debug.</summary>
    public bool EnableDebug { get; init; }

    /// <summary>Put QEMU and the shim only in the pod's sandbox cgroup instead of limiting them separately.</summary>
    public bool SandboxCgroupOnly { get; init; }

    /// <summary>How the pod's network namespace reaches the VM: "tcfilter" (tap + tc mirred redirect) or "none".</summary>
    public string InternetworkingModel { get; init; } = "tcfilter";
}
