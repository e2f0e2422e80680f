namespace Stencil.Runtime.Storage;

/// <summary>
/// Is a host path a tmpfs mount point, and with which options? Read from /proc/self/mountinfo; the
/// parser is pure. The options are what a guest tmpfs standing in for it is mounted with: the size,
/// inode count and mode tmpfs shows (it shows them only where they differ from its defaults, and the
/// guest's defaults follow the same rules), and the mount's ro/nosuid/nodev/noexec.
/// </summary>
public static class HostTmpfs
{
    private const string EmptyDirFolder = "kubernetes.io~empty-dir";
    private static readonly string[] s_superOptions = ["size=", "nr_inodes=", "mode="];
    private static readonly string[] s_mountFlags = ["ro", "nosuid", "nodev", "noexec"];

    /// <summary>The tmpfs mounted at <paramref name="path"/> on this host, or null.</summary>
    public static HostTmpfsMount? Find(string path) => Snapshot()(path);

    /// <summary>Questions about one moment's mounts: /proc/self/mountinfo is read on the first one and
    /// kept (a container has several bind mounts; a node's mountinfo can be long).</summary>
    public static Func<string, HostTmpfsMount?> Snapshot()
    {
        List<string[]>? lines = null;
        return path => Find(lines ??= Split(ReadMountInfo()), path);
    }

    /// <summary>
    /// From mountinfo text: the topmost mount at exactly <paramref name="path"/>, if it is a tmpfs. A bind
    /// of a folder inside a tmpfs (the kubelet's subPath: pods/UID/volume-subpaths/VOLUME/CONTAINER/N)
    /// has that folder as its root; if the same tmpfs is mounted whole as an emptyDir volume
    /// (…/kubernetes.io~empty-dir/NAME), that mount point is named too.
    /// </summary>
    public static HostTmpfsMount? Parse(string mountinfo, string path) => Find(Split(mountinfo), path);

    // ID PARENT MAJ:MIN ROOT MOUNT_POINT MOUNT_OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    private static List<string[]> Split(string mountinfo) =>
        mountinfo.Split('\n').Select(l => l.Split(' ')).Where(f => f.Length >= 10).ToList();

    private static string ReadMountInfo()
    {
        try
        {
            return File.ReadAllText("/proc/self/mountinfo");
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static HostTmpfsMount? Find(List<string[]> lines, string path)
    {
        var wanted = Trim(path);
        var top = lines.LastOrDefault(f => SafeDirectory.UnescapeMountInfo(f[4]) == wanted); // later lines are on top
        if (top is null || FsType(top) != "tmpfs")
            return null;
        var dash = Array.IndexOf(top, "-", 6);
        var options = new List<string>();
        var super = dash + 3 < top.Length ? top[dash + 3].Split(',') : [];
        options.AddRange(super.Where(o => s_superOptions.Any(p => o.StartsWith(p, StringComparison.Ordinal))));
        options.AddRange(top[5].Split(',').Where(o => s_mountFlags.Contains(o)));
        var root = SafeDirectory.UnescapeMountInfo(top[3]);
        string? emptyDir = null;
        if (root != "/")
        {
            emptyDir = lines
                .Where(f => f[2] == top[2] && f[3] == "/" && FsType(f) == "tmpfs")
                .Select(f => SafeDirectory.UnescapeMountInfo(f[4]))
                .FirstOrDefault(mountPoint => EmptyDirVolumeName(mountPoint) is not null);
        }
        return new HostTmpfsMount(options, root, emptyDir);
    }

    /// <summary>Is <paramref name="path"/> a kubelet emptyDir volume folder (…/kubernetes.io~empty-dir/NAME)?
    /// Returns the volume's name, or null.</summary>
    public static string? EmptyDirVolumeName(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && parts[^2] == EmptyDirFolder ? parts[^1] : null;
    }

    private static string? FsType(string[] fields)
    {
        var dash = Array.IndexOf(fields, "-", 6);
        return dash > 0 && dash + 1 < fields.Length ? fields[dash + 1] : null;
    }

    private static string Trim(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}

/// <param name="GuestOptions">Options for a guest tmpfs that stands in for it.</param>
/// <param name="Root">The folder of the tmpfs this mount shows ("/" for the whole file system).</param>
/// <param name="EmptyDirMountPoint">For a mount of a folder inside a tmpfs: where that tmpfs is
/// mounted whole as a kubelet emptyDir volume, or null.</param>
public sealed record HostTmpfsMount(IReadOnlyList<string> GuestOptions, string Root, string? EmptyDirMountPoint);
