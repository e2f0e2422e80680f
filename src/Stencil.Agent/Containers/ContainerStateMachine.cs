namespace Stencil.Agent.Containers;

/// <summary>
/// The legal moves between container states; an illegal one fails with FailedPrecondition and a
/// plain message ("cannot pause container \"c1\" in created state"). Pure.
/// </summary>
internal static class ContainerStateMachine
{
    internal static ContainerState Start(string id, ContainerState s) =>
        s == ContainerState.Created ? ContainerState.Running : throw Illegal("start", id, s);

    internal static ContainerState Pause(string id, ContainerState s) =>
        s == ContainerState.Running ? ContainerState.Paused : throw Illegal("pause", id, s);

    internal static ContainerState Resume(string id, ContainerState s) =>
        s == ContainerState.Paused ? ContainerState.Running : throw Illegal("resume", id, s);

    /// <summary>The init process ended: from any state (a created container's init can be killed too).</summary>
    internal static ContainerState Exited(ContainerState s) => ContainerState.Stopped;

    internal static void CheckExec(string id, ContainerState s)
    {
        if (s != ContainerState.Running)
            throw Illegal("exec in", id, s);
    }

    internal static void CheckUpdate(string id, ContainerState s)
    {
        if (s == ContainerState.Stopped)
            throw Illegal("update", id, s);
    }

    /// <summary>Removal needs a stopped (or never started) container unless forced.</summary>
    internal static void CheckRemove(string id, ContainerState s, bool force)
    {
        if (!force && s is ContainerState.Running or ContainerState.Paused)
            throw Illegal("remove", id, s, " (stop it first or force)");
    }

    private static StencilException Illegal(string verb, string id, ContainerState s, string hint = "") =>
        StencilException.FailedPrecondition($"cannot {verb} container \"{id}\" in {s.ToString().ToLowerInvariant()} state{hint}");
}
