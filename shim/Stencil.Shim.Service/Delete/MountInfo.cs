using System.Text;

namespace Stencil.Shim.Delete;

/// <summary>/proc/self/mountinfo, reduced to what cleanup needs: the mount points.</summary>
internal static class MountInfo
{
    /// <summary>
    /// Pure: the mount points in mountinfo text at or below <paramref name="root"/>, deepest first
    /// (the order to unmount them in). Field 5 of a line is the mount point, with space, tab, newline
    /// and backslash written as octal escapes (\040 \011 \012 \134).
    /// </summary>
    public static IReadOnlyList<string> MountPointsUnder(string mountInfo, string root)
    {
        root = root.TrimEnd('/');
        var result = new List<string>();
        foreach (var line in mountInfo.Split('\n'))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
                continue;
            var point = Unescape(fields[4]);
            if (point == root || point.StartsWith(root + "/", StringComparison.Ordinal))
                result.Add(point);
        }
        // Deeper paths have more separators; among equals (stacked mounts) keep the later one first.
        return result.Select((p, i) => (p, i))
            .OrderByDescending(x => x.p.Count(c => c == '/'))
            .ThenByDescending(x => x.i)
            .Select(x => x.p)
            .ToArray();
    }

    public static IReadOnlyList<string> MountPointsUnder(string root) =>
        MountPointsUnder(File.ReadAllText("/proc/self/mountinfo"), root);

    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int start)
    {
        if (start + 3 > s.Length)
            return false;
        for (var i = start; i < start + 3; i++)
        {
            if (s[i] is < '0' or > '7')
                return false;
        }
        return true;
    }
}
