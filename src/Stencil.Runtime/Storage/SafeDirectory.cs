using Stencil.Interop;

namespace Stencil.Runtime.Storage;

/// <summary>
/// Removes a runtime-owned folder tree that may still have mounts inside it (a container's rootfs, a
/// bind-mounted host folder). A recursive delete would walk into those mounts and delete the user's
/// files, so everything mounted below the folder is unmounted first, deepest first, and the delete is
/// refused if anything is still mounted there.
/// </summary>
public static class SafeDirectory
{
    /// <summary>Removes <paramref name="path"/> if it is an empty folder (rmdir: another pod's folder in
    /// it, or a race with one being made, leaves it in place without an error).</summary>
    public static void RemoveIfEmpty(string path)
    {
        try
        {
            if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any())
                Directory.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    /// <remarks>
    /// The folder may be (or be inside) the pod's share, which a hostile guest writes over 9p while this
    /// runs: the folder is opened once beneath its parent (the host's own folder), every mount below it is
    /// unmounted through a folder opened beneath it (no link on the way, none followed at the mount point
    /// itself), and the files go by fds (<see cref="ConfinedDirectory.RemoveTree"/>: links removed, never
    /// followed; no mount point crossed). A link in place of the folder is removed as a link.
    /// </remarks>
    public static void RemoveTree(string path, IMounter mounter)
    {
        var given = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var name = Path.GetFileName(given);
        using var parent = ConfinedDirectory.TryOpen(Path.GetDirectoryName(given)!);
        if (parent is null || name.Length == 0)
            return;
        ConfinedDirectory? root;
        try
        {
            root = parent.TryOpenDirectory(name);
        }
        catch (StencilException ex) when (ex.Kind is ErrorKind.FailedPrecondition or ErrorKind.InvalidArgument)
        {
            // A link (a pooled VM's export, or one the guest put there) or a file: only it goes.
            parent.RemoveTree(name);
            return;
        }
        if (root is null)
            return;
        using (root)
        {
            // mountinfo names mounts by their real paths: the folder's, as opened.
            var real = new DirectoryInfo(root.ProcPath).LinkTarget ?? given;
            var failures = new List<string>();
            foreach (var mountPoint in MountsBelow(real).OrderByDescending(m => m.Length))
            {
                try
                {
                    UnmountBeneath(parent, name + mountPoint[real.Length..], mountPoint, mounter);
                }
                catch (StencilException ex)
                {
                    failures.Add(ex.Message); // a link where the mount's folder was, say: the others still go
                }
            }
            var left = MountsBelow(real).ToList();
            if (left.Count > 0)
            {
                throw StencilException.FailedPrecondition(
                    $"cannot remove {real}: still mounted: {string.Join(", ", left)}{(failures.Count > 0 ? $" ({string.Join("; ", failures)})" : "")}");
            }
        }
        parent.RemoveTree(name);
    }

    /// <summary>Unmounts what is mounted at <paramref name="relative"/> (below <paramref name="parent"/>), through
    /// its folder opened beneath <paramref name="parent"/> and its name.</summary>
    private static void UnmountBeneath(ConfinedDirectory parent, string relative, string mountPoint, IMounter mounter)
    {
        var slash = relative.LastIndexOf('/');
        using var folder = slash < 0 ? null : parent.OpenDirectory(relative[..slash]);
        var leaf = relative[(slash + 1)..];
        mounter.Unmount(new MountTarget(mountPoint, mountPoint, $"{(folder ?? parent).ProcPath}/{leaf}"));
    }

    /// <summary>Mount points at or below <paramref name="root"/>, from /proc/self/mountinfo.</summary>
    public static IEnumerable<string> MountsBelow(string root)
    {
        var prefix = root + "/";
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
                continue;
            var mountPoint = UnescapeMountInfo(fields[4]);
            if (mountPoint == root || mountPoint.StartsWith(prefix, StringComparison.Ordinal))
                yield return mountPoint;
        }
    }

    // mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
    internal static string UnescapeMountInfo(string field) =>
        field.Contains('\\') ? field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\") : field;
}
