using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The host side of a container's storage: its root file system and bind-mount sources mounted into
/// the pod's shared folder (which the guest sees over 9p), or without the share its rootfs image; all
/// removed again with the container.
/// </summary>
internal sealed class HostStorage(PodRuntimeOptions options, IMounter mounter, ILog log)
{
    private string SharedDir => options.Paths.SharedDir(options.Namespace, options.PodId);

    /// <summary>The host paths the container needs exist (checked before a VM is started for it).</summary>
    public static void CheckSources(PodContainer container, GuestSpecPlan plan)
    {
        if (container.RootfsMounts.Count == 0)
            container.Bundle.EnsureRootfsExists();
        foreach (var bind in plan.HostBinds)
        {
            if (!File.Exists(bind.HostPath) && !Directory.Exists(bind.HostPath))
                throw StencilException.NotFound($"container {container.Id}: bind mount source {bind.HostPath} does not exist");
        }
    }

    /// <summary>
    /// Mounts the rootfs and the bind-mount sources into the shared folder. The guest can write there
    /// (and has, for a later container of the pod): every folder and file is made beneath the shared folder
    /// (<see cref="ConfinedDirectory"/>: one name at a time, no link followed, a bind target created new),
    /// and each mount goes onto the fd of the folder or file so made, never onto a path looked up again.
    /// </summary>
    public void Mount(PodContainer container, GuestSpecPlan plan)
    {
        using var shared = ConfinedDirectory.Open(SharedDir);
        var rootfsPath = options.Paths.ContainerRootfs(options.Namespace, options.PodId, container.Id);
        var mounts = RootfsMounts(container);
        using (var parent = shared.CreateDirectories(container.Id))
        {
            foreach (var m in mounts)
            {
                using var rootfs = parent.CreateDirectories(GuestSpecBuilder.RootfsMountPoint);
                mounter.Mount(m, Target(rootfsPath, parent, GuestSpecBuilder.RootfsMountPoint, rootfs.Handle));
                container.HostMounts.Add(rootfsPath);
            }
        }

        foreach (var bind in plan.HostBinds)
        {
            var targetPath = Path.Combine(SharedDir, bind.SharedRelativePath);
            var slash = bind.SharedRelativePath.LastIndexOf('/');
            using var parent = shared.CreateDirectories(bind.SharedRelativePath[..slash]);
            var name = bind.SharedRelativePath[(slash + 1)..];
            using var target = bind.IsFile ? NewFile(parent, name) : parent.CreateDirectories(name).Handle;
            List<string> mountOptions = bind.ReadOnly ? ["rbind", "ro"] : ["rbind"];
            if (bind.Propagation is { } propagation)
                mountOptions.Add(propagation);
            mounter.Mount(new MountSpec("bind", bind.HostPath, "", mountOptions), Target(targetPath, parent, name, target));
            container.HostMounts.Add(targetPath);
        }
    }

    /// <summary>
    /// Without the shared folder ([hypervisor] shared_fs = "none"): the container's rootfs copied into an ext4
    /// image in its private folder (<see cref="Configuration.StatePaths.ContainerDir"/>, which the guest never sees). The rootfs
    /// mounts (or a bind of the bundle's rootfs) go on a folder there only while the image is made, then come off
    /// again: the container's root from then on is the image alone. On failure neither mount nor image is left.
    /// </summary>
    public async Task<string> MakeRootfsImageAsync(PodContainer container, CancellationToken cancellationToken)
    {
        var dir = options.Paths.ContainerDir(options.Namespace, options.PodId, container.Id);
        var source = Path.Combine(dir, RootfsSourceFolder);
        var image = Path.Combine(dir, RootfsImageFile);
        if (OperatingSystem.IsWindows()) // never; the guard tells the platform analyzer so
            throw new PlatformNotSupportedException();
        // 0700: the rootfs is mounted in it for a while.
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(source);
        long sizeMiB;
        try
        {
            foreach (var m in RootfsMounts(container))
                mounter.Mount(m, source);
            sizeMiB = await RootfsImageBuilder.MakeAsync(source, image, options.RootfsImageMiB, runner: null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Every mount below it first, deepest first; refused (and so the create fails) if one stays.
            SafeDirectory.RemoveTree(source, mounter);
        }
        container.RootfsImage = image;
        log.Debug($"container {container.Id}: rootfs copied into {image} ({sizeMiB} MiB, sparse)");
        return image;
    }

    /// <summary>containerd's rootfs mounts, or (none given: the bundle's rootfs is ready-made) a bind of the bundle's rootfs.</summary>
    private static IReadOnlyList<MountSpec> RootfsMounts(PodContainer container) => container.RootfsMounts.Count > 0
        ? container.RootfsMounts
        : [new MountSpec("bind", container.Bundle.RootfsPath, "", ["rbind"])];

    /// <summary>In the container's private folder: where its rootfs is mounted while its image is made.</summary>
    internal const string RootfsSourceFolder = "rootfs";

    /// <summary>In the container's private folder: its rootfs image.</summary>
    internal const string RootfsImageFile = "rootfs.img";

    private static MountTarget Target(string path, ConfinedDirectory parent, string name, SafeHandle target) =>
        new(path, ConfinedDirectory.ProcPathOf(target), $"{parent.ProcPath}/{name}");

    /// <summary>The empty file a file is bound onto: made with O_EXCL (the guest may have put a link there).</summary>
    private static SafeFileHandle NewFile(ConfinedDirectory parent, string name)
    {
        try
        {
            return parent.CreateFile(name, 0x1a4 /* 0644 */);
        }
        catch (StencilException ex) when (ex.Kind == ErrorKind.AlreadyExists)
        {
            throw StencilException.FailedPrecondition($"bind mount target {parent.Path}/{name} exists already (made by the guest?): not mounted onto");
        }
    }

    /// <summary>Unmounts and removes the container's folders (shared and private); failures are logged.</summary>
    public void Remove(PodContainer container)
    {
        var paths = options.Paths;
        foreach (var dir in new[]
                 {
                     paths.ContainerSharedDir(options.Namespace, options.PodId, container.Id),
                     paths.ContainerDir(options.Namespace, options.PodId, container.Id),
                 })
        {
            try
            {
                SafeDirectory.RemoveTree(dir, mounter);
            }
            catch (Exception ex) when (ex is StencilException or IOException)
            {
                log.Error($"container {container.Id}: cleanup of {dir} failed: {ex.Message}");
            }
        }
    }
}
