using System.Globalization;

namespace Stencil.Agent.Guest;

/// <summary>Parses the kernel's CPU list format ("0-3,5,7-8"). Pure.</summary>
internal static class CpuSet
{
    internal static IReadOnlyList<int> Parse(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                cpus.Add(int.Parse(part, CultureInfo.InvariantCulture));
                continue;
            }
            var first = int.Parse(part.AsSpan(0, dash), CultureInfo.InvariantCulture);
            var last = int.Parse(part.AsSpan(dash + 1), CultureInfo.InvariantCulture);
            for (var c = first; c <= last; c++)
                cpus.Add(c);
        }
        return cpus;
    }
}
