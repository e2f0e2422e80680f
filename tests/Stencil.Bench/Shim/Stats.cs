using System.Globalization;

namespace Stencil.Bench.Shim;

/// <summary>Medians and the number formats the shim benchmark's tables use.</summary>
internal static class Stats
{
    /// <summary>The median (mean of the two middle values for an even count); NaN for no samples.</summary>
    public static double Median(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Seconds with two decimals ("3.05"), "-" for NaN.</summary>
    public static string S(double seconds) => double.IsNaN(seconds) ? "-" : seconds.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Milliseconds as a whole number ("41"), "-" for NaN.</summary>
    public static string Ms(double milliseconds) => double.IsNaN(milliseconds) ? "-" : milliseconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A ratio with one or two decimals and an x ("1.87x"), "-" for NaN or infinity.</summary>
    public static string X(double ratio) =>
        double.IsNaN(ratio) || double.IsInfinity(ratio) ? "-" : ratio.ToString(ratio >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + "x";

    /// <summary>KiB as MiB with one decimal ("17.6").</summary>
    public static string MiB(double kib) => double.IsNaN(kib) ? "-" : (kib / 1024).ToString("0.0", CultureInfo.InvariantCulture);

    public static string Verdict(bool pass) => pass ? "PASS" : "FAIL";
}
