using Stencil.Reliability.Fuzz;

namespace Stencil.Reliability.Tests;

/// <summary>
/// A few thousand mutated inputs per parser (a couple of seconds each): no crash, nothing over the
/// memory and time limits. `make reliability` runs the same targets with far more inputs.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FuzzTests
{
    private const int Iterations = 3000;

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void A_short_run_finds_no_crash_and_stays_within_the_limits(string target)
    {
        // Time is generous: this runs beside other builds on a shared 2-core machine.
        var limits = new FuzzLimits { MaxTime = TimeSpan.FromSeconds(10) };
        var result = FuzzRunner.Run(Assert.Single(FuzzTargets.Select(target)), Iterations, seed: 20261205, limits);
        Assert.True(result.Passed, $"{target}: {result.Crashes} crashes, {result.OverLimit} over the limits:\n{string.Join("\n", result.Findings)}");
        Assert.Equal(Iterations + Assert.Single(FuzzTargets.Select(target)).Seeds.Count, result.Iterations);
        // Most mutated inputs must be refused by the parser's own error, and some accepted: a harness
        // whose inputs all fail the same way (or all pass) tests nothing.
        if (target != "ttrpc")
            Assert.InRange(result.Refused, Iterations / 2, Iterations - 1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_inputs()
    {
        var target = FuzzTargets.Select("qmp")[0];
        var a = new Mutator(target.Seeds, target.Dictionary, new Random(7));
        var b = new Mutator(target.Seeds, target.Dictionary, new Random(7));
        for (var i = 0; i < 200; i++)
            Assert.Equal(a.Next(), b.Next());
    }

    [Fact]
    public void A_crash_is_counted_and_kept_with_its_input()
    {
        var result = FuzzRunner.Run(new Throwing(), 50, seed: 1, new FuzzLimits());
        Assert.Equal(50, result.Crashes);
        Assert.False(result.Passed);
        var finding = Assert.Single(result.Findings);
        Assert.Contains("System.FormatException: boom", finding.What);
        Assert.NotEmpty(finding.Input);
    }

    /// <summary>Accepts its seed, crashes on everything else.</summary>
    private sealed class Throwing : IFuzzTarget
    {
        public string Name => "throwing";

        public IReadOnlyList<byte[]> Seeds { get; } = [[1, 2, 3]];

        public IReadOnlyList<byte[]> Dictionary { get; } = [];

        public void Run(byte[] input, Random? random)
        {
            if (random is not null)
                throw new FormatException("boom");
        }

        public bool IsExpected(Exception exception) => false;
    }
}
