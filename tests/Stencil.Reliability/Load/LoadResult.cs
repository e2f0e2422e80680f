namespace Stencil.Reliability.Load;

/// <summary>The figures of one scenario: what it ran, what failed, what it left behind, what the shims cost.</summary>
public sealed record LoadResult(
    string Scenario,
    int Pods,
    int Failures,
    HostCensus Leaked,
    long MaxShimHwmKiB,
    int MaxShimFds,
    int ShimsSeen,
    double MedianSeconds,
    double WallSeconds,
    IReadOnlyList<string> FailureMessages,
    bool Clean)
{
    public bool Passed => Failures == 0 && Clean;
}
