using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Stencil;

/// <summary>
/// The time each named step of one operation took, in the order they ran: <see cref="Mark"/> closes the
/// step that began at the previous mark (or at construction). For the debug lines that say where a
/// container's create or start spent its time. Not thread-safe: one operation, one timer.
/// </summary>
public sealed class StepTimes
{
    private readonly List<(string Name, double Milliseconds)> _steps = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _last;

    /// <summary>The steps so far, with their times in milliseconds.</summary>
    public IReadOnlyList<(string Name, double Milliseconds)> Steps => _steps;

    /// <summary>Milliseconds since the timer was made.</summary>
    public double TotalMilliseconds => _clock.Elapsed.TotalMilliseconds;

    /// <summary>Ends step <paramref name="name"/> now; returns its milliseconds.</summary>
    public double Mark(string name)
    {
        var now = _clock.Elapsed;
        var ms = (now - _last).TotalMilliseconds;
        _last = now;
        _steps.Add((name, ms));
        return ms;
    }

    /// <summary>Adds a step measured elsewhere (the guest's own steps, a step that ran concurrently).</summary>
    public void Add(string name, double milliseconds) => _steps.Add((name, milliseconds));

    /// <summary>"a 3 ms, b 12 ms" (whole milliseconds, invariant culture). Pure.</summary>
    public static string Format(IEnumerable<(string Name, double Milliseconds)> steps)
    {
        var text = new StringBuilder();
        foreach (var (name, ms) in steps)
        {
            if (text.Length > 0)
                text.Append(", ");
            text.Append(name).Append(' ').Append(Math.Round(ms).ToString("0", CultureInfo.InvariantCulture)).Append(" ms");
        }
        return text.ToString();
    }

    /// <inheritdoc cref="Format(IEnumerable{ValueTuple{string, double}})"/>
    public override string ToString() => Format(_steps);
}
