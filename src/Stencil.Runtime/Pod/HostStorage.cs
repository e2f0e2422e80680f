using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The host side of a container's storage: its root file system and bind-mount sources mounted into
/// the pod's shared folder (which the guest sees over 9p), and removed again with the container.
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

    /// <summary>Mounts the rootfs and the bind-mount sources into the shared folder.</summary>
    public void Mount(PodContainer container, GuestSpecPlan plan)
    {
        var rootfs = options.Paths.ContainerRootfs(options.Namespace, options.PodId, container.Id);
        Directory.CreateDirectory(rootfs);
        if (container.RootfsMounts.Count > 0)
        {
            foreach (var m in container.RootfsMounts)
            {
                mounter.Mount(m, rootfs);
                container.HostMounts.Add(rootfs);
            }
        }
        else
        {
            mounter.Mount(new MountSpec("bind", container.Bundle.RootfsPath, "", ["rbind"]), rootfs);
            container.HostMounts.Add(rootfs);
        }

        foreach (var bind in plan.HostBinds)
        {
            var target = Path.Combine(SharedDir, bind.SharedRelativePath);
            if (bind.IsFile)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, []);
            }
            else
            {
                Directory.CreateDirectory(target);
            }
            List<string> mountOptions = bind.ReadOnly ? ["rbind", "ro"] : ["rbind"];
            if (bind.Propagation is { } propagation)
                mountOptions.Add(propagation);
            mounter.Mount(new MountSpec("bind", bind.HostPath, "", mountOptions), target);
            container.HostMounts.Add(target);
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
