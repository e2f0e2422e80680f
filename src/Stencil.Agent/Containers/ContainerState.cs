namespace Stencil.Agent.Containers;

/// <summary>A container's life inside the guest, as the agent tracks it.</summary>
internal enum ContainerState
{
    /// <summary>The runtime created it; its init waits for start.</summary>
    Created,
    Running,
    Paused,
    /// <summary>Its init exited (the runtime's "stopped").</summary>
    Stopped,
}
