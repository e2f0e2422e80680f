using Stencil.Interop;
using Tmds.Linux;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Containers;

/// <summary>
/// Mounts a container's storages under its folder: shared-folder paths are bind-mounted (after
/// checking, symlinks resolved, that they stay inside the shared folder); block devices are found
/// by PCI address or serial and mounted with their file system; a sandbox tmpfs is made on first
/// use and bind-mounted. Returns what it mounted, innermost
/// last, so the caller unmounts in reverse.
/// </summary>
internal sealed class StorageMounter(BlockDeviceLocator locator, EphemeralVolumes ephemeral)
{
    internal StorageMounter(BlockDeviceLocator locator)
        : this(locator, new EphemeralVolumes(GuestPaths.EphemeralRoot))
    {
    }

    /// <summary>The sandbox's tmpfs volumes (unmounted when the sandbox goes).</summary>
    internal EphemeralVolumes Ephemeral => ephemeral;

    /// <summary>Also finds the hot-plugged disks a container sees as device nodes.</summary>
    internal BlockDeviceLocator Locator => locator;

    internal async Task<List<string>> MountAllAsync(string containerDir, string? sharedRoot, IReadOnlyList<StorageRequest> storages,
        CancellationToken cancellationToken)
    {
        var mounted = new List<string>();
        try
        {
            for (var i = 0; i < storages.Count; i++)
            {
                var s = storages[i];
                var field = $"storages[{i}]";
                var target = GuestPaths.Inside(containerDir, s.MountPoint, $"{field}.mount_point");
                if (target == containerDir)
                    throw StencilException.InvalidArgument($"{field}.mount_point \"{s.MountPoint}\" is the container folder itself");
                var (flags, data) = MountOptions.Parse(s.Options);
                if (s.Ephemeral is not null)
                {
                    var source = ephemeral.Ensure(s.Ephemeral, s.Options, $"{field}.ephemeral");
                    if (s.EphemeralSubpath.Length > 0)
                    {
                        var folder = GuestPaths.Inside(source, s.EphemeralSubpath, $"{field}.ephemeral_subpath", allowAbsolute: false);
                        Directory.CreateDirectory(folder);
                        source = GuestPaths.RealPathInside(folder, $"{field}.ephemeral_subpath", source);
                    }
                    CreateMountPoint(target, isFile: false, containerDir, $"{field}.mount_point");
                    Check(Libc.Mount(source, target, null, LibC.MS_BIND, null), $"bind mount {source} on {target}");
                    mounted.Add(target);
                }
                else if (s.SharedPath is not null)
                {
                    if (sharedRoot is null)
                        throw StencilException.FailedPrecondition($"{field}.shared_path \"{s.SharedPath}\": the sandbox has no shared folder (CreateSandbox with one first)");
                    var lexical = GuestPaths.Inside(sharedRoot, s.SharedPath, $"{field}.shared_path", allowAbsolute: false);
                    var source = GuestPaths.RealPathInside(lexical, $"{field}.shared_path", sharedRoot);
                    // A file (resolv.conf, hosts, a config file) is bound onto a file, a folder onto a folder.
                    CreateMountPoint(target, isFile: File.Exists(source), containerDir, $"{field}.mount_point");
                    Check(Libc.Mount(source, target, null, LibC.MS_BIND | LibC.MS_REC, null), $"bind mount {source} on {target}");
                    mounted.Add(target);
                    var extra = flags & (LibC.MS_RDONLY | LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC);
                    if (extra != 0)
                        Check(Libc.Mount(null, target, null, LibC.MS_BIND | LibC.MS_REMOUNT | extra, null), $"remount {target} with {string.Join(',', s.Options)}");
                }
                else
                {
                    if (string.IsNullOrEmpty(s.FsType))
                        throw StencilException.InvalidArgument($"{field}.fstype is empty (a block device needs one, e.g. ext4)");
                    var device = await locator.WaitAsync(s.PciAddress, s.Serial, s.DeviceTimeout, cancellationToken).ConfigureAwait(false);
                    CreateMountPoint(target, isFile: false, containerDir, $"{field}.mount_point");
                    Check(Libc.Mount(device, target, s.FsType, flags, data.Length == 0 ? null : data), $"mount {device} ({s.FsType}) on {target}");
                    mounted.Add(target);
                }
                AgentLog.Debug($"mounted {field} on {target}");
            }
            return mounted;
        }
        catch
        {
            UnmountAll(mounted);
            throw;
        }
    }

    /// <summary>
    /// Creates the folder (or empty file) to mount on. The container folder is the agent's own tmpfs,
    /// but an earlier storage could have put a symlink on the way: the result must stay inside.
    /// </summary>
    private static void CreateMountPoint(string target, bool isFile, string containerDir, string field)
    {
        if (isFile)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!File.Exists(target))
                File.WriteAllBytes(target, []);
        }
        else
        {
            Directory.CreateDirectory(target);
        }
        GuestPaths.RealPathInside(target, field, containerDir);
    }

    internal static void UnmountAll(List<string> mounted)
    {
        for (var i = mounted.Count - 1; i >= 0; i--)
        {
            if (Libc.Umount2(mounted[i], LibC.MNT_DETACH) != 0)
                AgentLog.Warn($"umount {mounted[i]}: errno {Errno.Last}");
        }
        mounted.Clear();
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
            throw Errno.Exception(Errno.Last, what);
    }
}
