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

    public static void RemoveTree(string path, IMounter mounter)
    {
        var given = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var info = new DirectoryInfo(given);
        if (info.LinkTarget is not null)
        {
            // A link to a folder the runtime does not own by this name (a pooled VM's export): only the link goes.
            info.Delete();
            return;
        }
        if (!info.Exists)
            return;
        // mountinfo has real paths: compare against this folder's real path.
        var root = RealPath(given);
        foreach (var mountPoint in MountsBelow(root).OrderByDescending(m => m.Length))
            mounter.Unmount(mountPoint);
        var left = MountsBelow(root).ToList();
        if (left.Count > 0)
            throw StencilException.FailedPrecondition($"cannot remove {root}: still mounted: {string.Join(", ", left)}");
        Directory.Delete(root, recursive: true);
    }

    private static string RealPath(string path) => Libc.RealPath(path) ?? path;

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
