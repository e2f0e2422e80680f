namespace Stencil.Runtime.Lifecycle;

/// <summary>Where a pod's VM is (see <see cref="PodLifecycle"/>).</summary>
public enum PodState
{
    /// <summary>No VM: none started yet, or the last one stopped with the pod's last container.</summary>
    Empty,

    /// <summary>A VM is being started (cloned or booted, sandbox and network set up) for the first container.</summary>
    StartingVm,

    /// <summary>The VM runs and serves the pod's containers.</summary>
    Ready,

    /// <summary>The VM died (QEMU exited), or the link to its agent ended (it broke the protocol, stopped
    /// answering or reading), while containers still needed it; they are reported exited.</summary>
    Failed,

    /// <summary>The VM is being stopped (the last container went, or the shim is shutting down).</summary>
    Stopping,

    /// <summary>The pod runtime is disposed: nothing more can happen.</summary>
    Stopped,
}
