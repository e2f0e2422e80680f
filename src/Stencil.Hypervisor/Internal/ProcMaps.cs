using System.Globalization;

namespace Stencil.Hypervisor.Internal;

/// <summary>Reads /proc/PID/maps lines ("start-end perms offset dev inode path").</summary>
internal static class ProcMaps
{
    private const string DeletedSuffix = " (deleted)";

    /// <summary>
    /// The mapping of <paramref name="file"/> from its first byte (a file removed since it was mapped
    /// counts: the kernel marks it " (deleted)"); null when there is none.
    /// </summary>
    public static (long Start, long Length, long Inode)? FindFileMapping(IEnumerable<string> lines, string file)
    {
        foreach (var line in lines)
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6)
                continue;
            var path = fields[5].Trim();
            if (path.EndsWith(DeletedSuffix, StringComparison.Ordinal))
                path = path[..^DeletedSuffix.Length];
            if (path != file || fields[2] != "00000000")
                continue;
            var range = fields[0].Split('-');
            if (range.Length == 2
                && long.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)
                && end > start
                && long.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
            {
                return (start, end - start, inode);
            }
        }
        return null;
    }
}
