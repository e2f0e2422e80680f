using System.Globalization;

namespace Stencil.Reliability.Load;

/// <summary>The load figures as a table, one row per scenario, then the failure messages.</summary>
public static class LoadTable
{
    public static void Write(TextWriter output, IReadOnlyList<LoadResult> results)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        var rows = new List<string[]>
        {
            new[] { "scenario", "pods", "failures", "left qemu/shims/mounts/sockets/taps/pod state/tmpfs files", "tmpfs file bytes", "tmpfs used bytes", "max shim RSS MiB", "max shim fds", "shims seen", "median pod s", "wall s" },
        };
        rows.AddRange(results.Select(r => new[]
        {
            r.Scenario,
            I(r.Pods),
            I(r.Failures),
            $"{I(r.Leaked.Qemu)}/{I(r.Leaked.Shims)}/{I(r.Leaked.Mounts)}/{I(r.Leaked.Sockets)}/{I(r.Leaked.Taps)}/{I(r.Leaked.PodState)}/{I(r.Leaked.TmpfsFiles)}",
            Signed(r.Leaked.TmpfsFileBytes),
            Signed(r.Leaked.TmpfsUsedBytes),
            (r.MaxShimHwmKiB / 1024.0).ToString("0.0", CultureInfo.InvariantCulture),
            I(r.MaxShimFds),
            I(r.ShimsSeen),
            double.IsNaN(r.MedianSeconds) ? "-" : r.MedianSeconds.ToString("0.00", CultureInfo.InvariantCulture),
            r.WallSeconds.ToString("0", CultureInfo.InvariantCulture),
        }));
        TextTable.Write(output, rows);
        output.WriteLine("left = after the scenario minus before, once deleted pods' shims and QEMUs are gone; tmpfs file bytes may grow 1 per pod (the template's served counter);");
        output.WriteLine("tmpfs used bytes grow as clones fault in pages the template's memory file never held (bounded by its size); RSS is each shim's VmHWM (peak)");
        foreach (var result in results)
        {
            foreach (var message in result.FailureMessages)
                output.WriteLine($"  {result.Scenario}: {message}");
        }
    }

    private static string I(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Signed(long n) => n.ToString("+0;-0;0", CultureInfo.InvariantCulture);
}
