using Stencil.Oci;
using Stencil.Runtime.Pod;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Storage;

namespace Stencil.Shim.Delete;

/// <summary>
/// Removes what the runtime left on the host for one container (or, once its daemon is gone, for a
/// whole pod), without the daemon. Removal goes through <see cref="SafeDirectory"/>, which unmounts
/// first and refuses to delete through a mount that stays (that would delete the image's files).
/// Nothing here throws: what cannot be removed becomes a warning.
/// </summary>
internal sealed class ContainerCleanup(IMounter mounter)
{
    private readonly List<string> _warnings = [];

    /// <summary>What could not be cleaned up (containerd logs `delete`'s stderr as warnings).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public void RemoveContainer(StatePaths paths, string ns, string podId, string containerId, string bundle)
    {
        // A rootfs mounted onto the bundle itself (containerd's own layout) is unmounted, never removed.
        Try(() =>
        {
            var bundleRootfs = Path.Combine(bundle, "rootfs");
            if (Directory.Exists(bundleRootfs) && mounter.IsMountPoint(bundleRootfs))
                mounter.Unmount(bundleRootfs);
        });
        RemoveTree(paths.ContainerSharedDir(ns, podId, containerId));
        RemoveTree(paths.ContainerDir(ns, podId, containerId));
    }

    /// <param name="bundle">The pod's bundle: its spec names the pod's cgroup (none in a sandbox API bundle).</param>
    public void RemovePod(StatePaths paths, string ns, string podId, string bundle)
    {
        // The VM first: its 9p server holds the shared folder's mounts open.
        var qemuDirectory = OrphanedVm.QemuDirectory(paths.VmDir(ns, podId));
        Try(() =>
        {
            if (OrphanedVm.Stop(paths.VmDir(ns, podId), TimeSpan.FromSeconds(10)) is { } stopped)
                _warnings.Add($"pod {podId}: {stopped}");
        });
        // The pod's cgroup, empty once QEMU is gone (the daemon's teardown would have removed it).
        Try(() =>
        {
            if (File.Exists(Path.Combine(bundle, "config.json"))
                && Bundle.Load(bundle).Spec.Linux?.CgroupsPath is { Length: > 0 } cgroupsPath)
                _warnings.AddRange(PodCgroup.RemoveLeftover(cgroupsPath));
        });
        RemoveTree(paths.PodDir(ns, podId));
        // A clone handed over by the factory daemon lives in a folder of its own (its 9p export and sockets).
        if (qemuDirectory != paths.VmDir(ns, podId))
            RemoveTree(qemuDirectory);
        RemoveTree(paths.VmDir(ns, podId));
        // The namespace's folder, once its last pod is gone (as the daemon does when it ends normally).
        SafeDirectory.RemoveIfEmpty(Path.GetDirectoryName(paths.PodDir(ns, podId))!);
    }

    private void RemoveTree(string path) => Try(() => SafeDirectory.RemoveTree(path, mounter));

    private void Try(Action action)
    {
        try
        {
            action();
        }
        catch (StencilException ex)
        {
            _warnings.Add(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _warnings.Add(ex.Message);
        }
    }
}
