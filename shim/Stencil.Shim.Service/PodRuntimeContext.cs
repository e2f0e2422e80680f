using Stencil.Runtime.Configuration;

namespace Stencil.Shim;

/// <summary>What the shim daemon knows when it creates the pod's runtime.</summary>
/// <param name="Namespace">containerd namespace ("default", "k8s.io").</param>
/// <param name="PodId">The CRI sandbox id, or the container's own id outside CRI.</param>
/// <param name="FirstContainerId">The container whose `start` spawned the daemon (the sandbox under CRI).</param>
/// <param name="Bundle">That container's bundle.</param>
/// <param name="ContainerdAddress">containerd's gRPC socket (-address).</param>
/// <param name="TtrpcAddress">containerd's ttRPC socket (TTRPC_ADDRESS), or empty.</param>
/// <param name="Paths">The state layout under [runtime] state_dir; `delete` relies on it too.</param>
/// <param name="Log">The shim's log (containerd's log, through the bundle's FIFO).</param>
/// <param name="ShimStartedAt">When the shim's `start` ran; null: not known.</param>
public sealed record PodRuntimeContext(
    string Namespace,
    string PodId,
    string FirstContainerId,
    string Bundle,
    string ContainerdAddress,
    string TtrpcAddress,
    StencilConfig Config,
    StatePaths Paths,
    ILog Log,
    DateTimeOffset? ShimStartedAt = null);
