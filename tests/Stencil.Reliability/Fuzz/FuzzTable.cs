using System.Globalization;

namespace Stencil.Reliability.Fuzz;

/// <summary>The fuzz figures as a plain table, one row per target, then every finding in full.</summary>
public static class FuzzTable
{
    public static void Write(TextWriter output, IReadOnlyList<FuzzResult> results, FuzzLimits limits)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(limits);
        var rows = new List<string[]> { new[] { "target", "inputs", "execs/s", "crashes", "over limit", "refused", "max alloc/input", "max time/input" } };
        rows.AddRange(results.Select(r => new[]
        {
            r.Target,
            r.Iterations.ToString(CultureInfo.InvariantCulture),
            r.ExecsPerSecond.ToString("0", CultureInfo.InvariantCulture),
            r.Crashes.ToString(CultureInfo.InvariantCulture),
            r.OverLimit.ToString(CultureInfo.InvariantCulture),
            r.Refused.ToString(CultureInfo.InvariantCulture),
            Bytes(r.MaxAllocatedBytes),
            $"{r.MaxTime.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms",
        }));
        TextTable.Write(output, rows);
        output.WriteLine($"limits per input: {Bytes(limits.MaxAllocatedBytes)} allocated, {limits.MaxTime.TotalMilliseconds:0} ms; refused = rejected with the component's own error");
        foreach (var result in results)
        {
            foreach (var finding in result.Findings)
                output.WriteLine($"  {result.Target}: {finding}");
        }
    }

    public static string Bytes(long bytes) => bytes >= 1 << 20
        ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";
}
