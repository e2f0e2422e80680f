using System.Diagnostics;

namespace Stencil.Bench;

/// <summary>Latency samples in Stopwatch ticks, one list per caller (no sharing while measuring), merged at the end.</summary>
public sealed class Latencies
{
    private readonly List<long> _ticks = new(1 << 16);

    public int Count => _ticks.Count;

    public void Add(long ticks) => _ticks.Add(ticks);

    public static (double P50Micros, double P99Micros) Percentiles(IEnumerable<Latencies> all)
    {
        var merged = all.SelectMany(l => l._ticks).ToArray();
        if (merged.Length == 0)
            return (double.NaN, double.NaN);
        Array.Sort(merged);
        return (Micros(merged[Index(merged.Length, 0.50)]), Micros(merged[Index(merged.Length, 0.99)]));
    }

    private static int Index(int count, double quantile) => Math.Min(count - 1, (int)Math.Ceiling(quantile * count) - 1);

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
