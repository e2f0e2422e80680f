namespace Stencil.Reliability.Fuzz;

/// <summary>The figures of one target's run.</summary>
public sealed record FuzzResult(string Target, int Iterations, TimeSpan Elapsed, int Crashes, int OverLimit, long MaxAllocatedBytes,
    TimeSpan MaxTime, int Refused, IReadOnlyList<FuzzFinding> Findings)
{
    public double ExecsPerSecond => Elapsed > TimeSpan.Zero ? Iterations / Elapsed.TotalSeconds : 0;

    /// <summary>No crash and no input over a limit.</summary>
    public bool Passed => Crashes == 0 && OverLimit == 0;
}
