using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Storage;

public sealed class LinuxMounter : IMounter
{
    public void Mount(MountSpec mount, MountTarget target)
    {
        var parsed = MountOptions.Parse(mount.Options);
        var type = mount.Type is "bind" or "rbind" ? null : mount.Type;
        var flags = parsed.Flags | (mount.Type == "rbind" ? MountOptions.MS_BIND | MountOptions.MS_REC
                                  : mount.Type == "bind" ? MountOptions.MS_BIND : 0);
        var what = $"mount {mount.Type} {mount.Source} on {target}";
        if (Libc.Mount(mount.Source, target.MountAt, type, flags & ~MountOptions.MS_RDONLY | (type is null ? 0 : flags & MountOptions.MS_RDONLY),
                       parsed.Data.Length == 0 ? null : parsed.Data) != 0)
            throw Errno.LastException(what);

        // A bind mount ignores MS_RDONLY on the first call; it takes a remount to make it read-only.
        if (type is null && (flags & MountOptions.MS_RDONLY) != 0
            && Libc.Mount(null, target.Mounted, null, MountOptions.MS_BIND | MountOptions.MS_REMOUNT | MountOptions.MS_RDONLY | (flags & (MountOptions.MS_NOSUID | MountOptions.MS_NODEV | MountOptions.MS_NOEXEC)), null) != 0)
        {
            var errno = Errno.Last;
            Unmount(target);
            throw Errno.Exception(errno, what + " (read-only remount)");
        }
        if (parsed.Propagation != 0 && Libc.Mount(null, target.Mounted, null, parsed.Propagation, null) != 0)
        {
            var errno = Errno.Last;
            Unmount(target);
            throw Errno.Exception(errno, what + " (propagation)");
        }
    }

    public void Unmount(MountTarget target)
    {
        if (Libc.Umount2(target.Mounted, LibC.UMOUNT_NOFOLLOW) == 0)
            return;
        var errno = Errno.Last;
        if (errno == LibC.EINVAL || errno == LibC.ENOENT)
            return; // not a mount point (any more), or gone
        if (errno == LibC.EBUSY)
        {
            // Busy (an open file, a process's cwd): detach now, the kernel finishes when it is released.
            if (Libc.Umount2(target.Mounted, LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW) == 0)
                return;
            errno = Errno.Last;
        }
        throw Errno.Exception(errno, $"unmount {target}");
    }

    public bool IsMountPoint(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return SafeDirectory.MountsBelow(full).Any(m => m == full);
    }
}
