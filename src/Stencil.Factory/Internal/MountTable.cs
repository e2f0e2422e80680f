using System.Text;

namespace Stencil.Factory.Internal;

/// <summary>Pure reading of /proc/self/mounts text.</summary>
internal static class MountTable
{
    internal sealed record Entry(string Source, string MountPoint, string FileSystemType, string Options);

    public static IReadOnlyList<Entry> Parse(string text)
    {
        var entries = new List<Entry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            if (f.Length >= 4)
                entries.Add(new Entry(Unescape(f[0]), Unescape(f[1]), f[2], f[3]));
        }
        return entries;
    }

    /// <summary>The mount on top at exactly <paramref name="mountPoint"/> (the last one listed), or null.</summary>
    public static Entry? At(IReadOnlyList<Entry> entries, string mountPoint)
    {
        var wanted = mountPoint.Length > 1 ? mountPoint.TrimEnd('/') : mountPoint;
        Entry? found = null;
        foreach (var e in entries)
        {
            if (e.MountPoint == wanted)
                found = e;
        }
        return found;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in mount fields as \040, \011, \012, \134.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
            return field;
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field.AsSpan(i + 1, 3)))
            {
                bytes.Add(Convert.ToByte(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(ReadOnlySpan<char> s) => s.Length == 3 && s[0] is >= '0' and <= '3' && s[1] is >= '0' and <= '7' && s[2] is >= '0' and <= '7';
}
