namespace Stencil.Runtime.Storage;

/// <summary>
/// Is a host path a tmpfs mount point, and with which options? Read from /proc/self/mountinfo; the
/// parser is pure. The answer is what a guest tmpfs standing in for it is mounted with: the size,
/// inode count and mode tmpfs shows (it shows them only where they differ from its defaults, and the
/// guest's defaults are the same rules), and the mount's ro/nosuid/nodev/noexec.
/// </summary>
public static class HostTmpfs
{
    private static readonly string[] s_superOptions = ["size=", "nr_inodes=", "mode="];
    private static readonly string[] s_mountFlags = ["ro", "nosuid", "nodev", "noexec"];

    /// <summary>The guest tmpfs options for <paramref name="path"/> if it is a tmpfs mount point on this host; else null.</summary>
    public static IReadOnlyList<string>? GuestOptions(string path)
    {
        try
        {
            return Parse(File.ReadAllText("/proc/self/mountinfo"), path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>From mountinfo text: the options of the topmost mount at exactly <paramref name="path"/> if it is a tmpfs.</summary>
    public static IReadOnlyList<string>? Parse(string mountinfo, string path)
    {
        var wanted = path.Length > 1 ? path.TrimEnd('/') : path;
        string[]? top = null;
        foreach (var line in mountinfo.Split('\n'))
        {
            // ID PARENT MAJ:MIN ROOT MOUNT_POINT MOUNT_OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
            var fields = line.Split(' ');
            if (fields.Length >= 10 && SafeDirectory.UnescapeMountInfo(fields[4]) == wanted)
                top = fields; // later lines are mounted on top of earlier ones
        }
        if (top is null)
            return null;
        var dash = Array.IndexOf(top, "-", 6);
        if (dash < 0 || dash + 1 >= top.Length || top[dash + 1] != "tmpfs")
            return null;
        var options = new List<string>();
        var super = dash + 3 < top.Length ? top[dash + 3].Split(',') : [];
        options.AddRange(super.Where(o => s_superOptions.Any(p => o.StartsWith(p, StringComparison.Ordinal))));
        options.AddRange(top[5].Split(',').Where(o => s_mountFlags.Contains(o)));
        return options;
    }
}
