using Stencil.Runtime.Configuration;
using Stencil.Runtime.Storage;

namespace Stencil.Shim.Delete;

/// <summary>
/// Removes what the runtime left on the host for one container (or, once its daemon is gone, for a
/// whole pod), without the daemon. Mounts below a folder are unmounted first, and the removal never
/// descends into a mount point that stays mounted: deleting through a live rootfs mount would delete
/// the image's files.
/// </summary>
internal sealed class ContainerCleanup
{
    private readonly IMounter _mounter;
    private readonly Func<string, IReadOnlyList<string>> _mountPointsUnder;
    private readonly List<string> _warnings = [];

    public ContainerCleanup(IMounter mounter, Func<string, IReadOnlyList<string>> mountPointsUnder)
    {
        _mounter = mounter;
        _mountPointsUnder = mountPointsUnder;
    }

    /// <summary>What could not be cleaned up (containerd logs `delete`'s stderr as warnings).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public void RemoveContainer(StatePaths paths, string ns, string podId, string containerId, string bundle)
    {
        // A rootfs mounted onto the bundle (containerd's own layout) goes too.
        Unmount(Path.Combine(bundle, "rootfs"));
        RemoveTree(paths.ContainerSharedDir(ns, podId, containerId));
        RemoveTree(paths.ContainerDir(ns, podId, containerId));
    }

    public void RemovePod(StatePaths paths, string ns, string podId)
    {
        RemoveTree(paths.PodDir(ns, podId));
        RemoveTree(paths.VmDir(ns, podId));
    }

    private void Unmount(string path)
    {
        foreach (var mountPoint in SafeMountPointsUnder(path))
        {
            try
            {
                _mounter.Unmount(mountPoint);
            }
            catch (StencilException ex)
            {
                _warnings.Add(ex.Message);
            }
        }
    }

    public void RemoveTree(string root)
    {
        if (!Directory.Exists(root))
            return;
        Unmount(root);
        var stillMounted = new HashSet<string>(SafeMountPointsUnder(root), StringComparer.Ordinal);
        foreach (var mountPoint in stillMounted)
            _warnings.Add($"{mountPoint} is still mounted; left in place");
        RemoveBelow(new DirectoryInfo(root), stillMounted);
    }

    /// <summary>Deletes a folder's contents, then the folder; returns false when something had to stay.</summary>
    private bool RemoveBelow(DirectoryInfo dir, HashSet<string> keep)
    {
        if (keep.Contains(dir.FullName.TrimEnd('/')))
            return false;
        var complete = true;
        try
        {
            foreach (var entry in dir.EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo sub && sub.LinkTarget is null)
                    complete &= RemoveBelow(sub, keep);
                else
                    complete &= Try(entry.Delete, entry.FullName); // files, and symlinks themselves (never followed)
            }
            return complete && Try(() => dir.Delete(), dir.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _warnings.Add($"remove {dir.FullName}: {ex.Message}");
            return false;
        }
    }

    private bool Try(Action delete, string path)
    {
        try
        {
            delete();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _warnings.Add($"remove {path}: {ex.Message}");
            return false;
        }
    }

    private IReadOnlyList<string> SafeMountPointsUnder(string path)
    {
        try
        {
            return _mountPointsUnder(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without the mount table nothing can be removed safely.
            _warnings.Add($"cannot read the mount table: {ex.Message}");
            return [path];
        }
    }
}
