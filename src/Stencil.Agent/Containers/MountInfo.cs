namespace Stencil.Agent.Containers;

/// <summary>Reads /proc/self/mountinfo. The parser is pure.</summary>
internal static class MountInfo
{
    internal static IReadOnlyList<string> MountPointsUnder(string dir) =>
        MountPoints(File.ReadAllText("/proc/self/mountinfo")).Where(m => GuestPaths.IsUnder(m, dir)).ToList();

    /// <summary>The mount point (fifth field) of each line, with the kernel's octal escapes undone.</summary>
    internal static IEnumerable<string> MountPoints(string mountinfo)
    {
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4)
                yield return Unescape(fields[4]);
        }
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\'))
            return s;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int start) =>
        start + 3 <= s.Length && s[start] is >= '0' and <= '7' && s[start + 1] is >= '0' and <= '7' && s[start + 2] is >= '0' and <= '7';
}
