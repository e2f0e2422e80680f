using System.Globalization;
using System.Text.RegularExpressions;

namespace Stencil.Bench.Shim;

/// <summary>
/// When the shim logged each step of one container's life, read from containerd's log (containerd
/// copies each shim's log FIFO into it): daemon serving, VM ready (with the VM's origin and the
/// factory's own start time), container created in the guest, container exited, VM stopped. A step
/// the shim did not log is null. Pure: the lines are given.
/// </summary>
internal sealed partial record ShimLogTimeline(
    DateTime? Serving,
    DateTime? VmReady,
    string? Origin,
    double? FactoryMs,
    DateTime? Created,
    DateTime? Exited,
    DateTime? VmStopped)
{
    public static ShimLogTimeline Parse(IEnumerable<string> lines, string id)
    {
        DateTime? serving = null, vmReady = null, created = null, exited = null, vmStopped = null;
        string? origin = null;
        double? factoryMs = null;
        var idField = new Regex($@"\bid={Regex.Escape(id)}(\s|$)", RegexOptions.CultureInvariant);
        foreach (var line in lines)
        {
            if (!idField.IsMatch(line))
                continue;
            var message = MessagePattern().Match(line);
            var time = TimePattern().Match(line);
            if (!message.Success || !time.Success)
                continue;
            var msg = message.Groups[1].Value;
            var at = ParseTime(time.Groups[1].Value, time.Groups[2].Value);
            if (msg == "shim daemon serving")
            {
                serving ??= at;
            }
            else if (msg.StartsWith($"pod {id}: VM ready (", StringComparison.Ordinal))
            {
                vmReady ??= at;
                var ready = VmReadyPattern().Match(msg);
                if (ready.Success)
                {
                    origin ??= ready.Groups[1].Value;
                    factoryMs ??= double.Parse(ready.Groups[2].Value, CultureInfo.InvariantCulture);
                }
            }
            else if (msg.StartsWith($"container {id} created in the guest", StringComparison.Ordinal))
            {
                created ??= at;
            }
            else if (msg.StartsWith($"container {id} exited with status", StringComparison.Ordinal))
            {
                exited ??= at;
            }
            else if (msg.StartsWith($"pod {id}: VM stopped", StringComparison.Ordinal))
            {
                vmStopped ??= at;
            }
        }
        return new ShimLogTimeline(serving, vmReady, origin, factoryMs, created, exited, vmStopped);
    }

    /// <summary>logrus time ("2026-11-25T21:38:35.048743400Z"): its nanoseconds cut to DateTime's 100 ns ticks.</summary>
    private static DateTime ParseTime(string seconds, string fraction)
    {
        var at = DateTime.ParseExact(seconds, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        if (fraction.Length > 0)
            at = at.AddTicks(long.Parse(fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture));
        return at;
    }

    [GeneratedRegex(@"\btime=""(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z""", RegexOptions.CultureInvariant)]
    private static partial Regex TimePattern();

    [GeneratedRegex(@"\bmsg=""((?:[^""\\]|\\.)*)""", RegexOptions.CultureInvariant)]
    private static partial Regex MessagePattern();

    [GeneratedRegex(@"VM ready \(([^,]+), (\d+) ms", RegexOptions.CultureInvariant)]
    private static partial Regex VmReadyPattern();
}
