namespace Stencil.Reliability.Load;

/// <summary>
/// How much load: <see cref="Cycles"/> sequential `ctr run --rm` create/delete cycles, then
/// <see cref="ConcurrentPods"/> pods started together, checked running, and deleted together.
/// <see cref="Full"/> is `make reliability`'s; <see cref="Quick"/> the end-to-end test's.
/// </summary>
public sealed record LoadPlan(int Cycles, int ConcurrentPods)
{
    public static LoadPlan Full { get; } = new(200, 20);

    public static LoadPlan Quick { get; } = new(10, 3);

    /// <summary>How long the shims and QEMUs of deleted pods get to go away (the VM is stopped in the background after Delete).</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Prefix of the container ids, so that runs sharing a containerd do not collide.</summary>
    public string IdPrefix { get; init; } = "rel";
}
