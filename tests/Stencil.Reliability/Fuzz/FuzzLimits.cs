namespace Stencil.Reliability.Fuzz;

/// <summary>What one input may cost before it counts as a failure: memory allocated while parsing it, and time.</summary>
public sealed record FuzzLimits
{
    public long MaxAllocatedBytes { get; init; } = 64L << 20;

    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(2);
}
