using System.Globalization;
using Stencil.Reliability.Fuzz;

namespace Stencil.Reliability;

/// <summary>`fuzz [--target oci|toml|qmp|ttrpc|all] [--iterations N] [--seed S] [--max-alloc-mib M] [--max-ms T] [--crash-dir DIR]`.</summary>
internal static class FuzzCommand
{
    public const string Usage = "fuzz [--target oci|toml|qmp|ttrpc|all] [--iterations N] [--seed S] [--max-alloc-mib M] [--max-ms T] [--crash-dir DIR] [--replay FILE]";

    /// <summary>Runs the selected targets and prints the table; 0 when nothing crashed or went over a limit, else 1.</summary>
    public static int Run(ReadOnlySpan<string> args, TextWriter output, CancellationToken cancellationToken)
    {
        var target = "all";
        var iterations = 100_000;
        var seed = 1;
        var limits = new FuzzLimits();
        string? crashDir = null;
        string? replay = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value ({Usage})");
            switch (args[i])
            {
                case "--target": target = value; break;
                case "--iterations": iterations = Number(value, args[i]); break;
                case "--seed": seed = Number(value, args[i]); break;
                case "--max-alloc-mib": limits = limits with { MaxAllocatedBytes = (long)Number(value, args[i]) << 20 }; break;
                case "--max-ms": limits = limits with { MaxTime = TimeSpan.FromMilliseconds(Number(value, args[i])) }; break;
                case "--crash-dir": crashDir = value; break;
                case "--replay": replay = value; break;
                default: throw new ArgumentException($"unknown option {args[i]} ({Usage})");
            }
            i++;
        }
        if (replay is not null)
            return Replay(FuzzTargets.Select(target) is [var one] ? one : throw new ArgumentException("--replay needs one --target"), File.ReadAllBytes(replay), output);
        var results = new List<FuzzResult>();
        foreach (var t in FuzzTargets.Select(target))
            results.Add(FuzzRunner.Run(t, iterations, seed, limits, crashDir, cancellationToken));
        output.WriteLine($"fuzz: seed {seed}, {iterations} mutated inputs per target (plus its seeds)");
        FuzzTable.Write(output, results, limits);
        return results.All(r => r.Passed) ? 0 : 1;
    }

    /// <summary>`--replay FILE` (a file --crash-dir wrote): runs that one input, whole, and prints what it threw.</summary>
    private static int Replay(IFuzzTarget target, byte[] input, TextWriter output)
    {
        try
        {
            target.Run(input, random: null);
            output.WriteLine($"{target.Name}: accepted");
            return 0;
        }
        catch (Exception ex) when (target.IsExpected(ex))
        {
            output.WriteLine($"{target.Name}: refused: {ex.Message}");
            return 0;
        }
        catch (Exception ex)
        {
            output.WriteLine($"{target.Name}: crash: {ex}");
            return 1;
        }
    }

    private static int Number(string value, string option) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{option} {value}: expected a whole number");
}
