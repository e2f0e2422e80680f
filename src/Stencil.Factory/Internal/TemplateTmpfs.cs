using System.Globalization;
using System.Runtime.InteropServices;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Factory.Internal;

/// <summary>
/// The tmpfs that holds templates: mounted at the template path with nosuid, nodev and mode 0700
/// unless a tmpfs is already mounted there. A marker file inside says the factory mounted it, so
/// that `stencil factory destroy` (another process, later) unmounts only what Stencil mounted.
/// Templates must live on tmpfs: clones map the memory file, and on a disk file system every page a
/// template guest touches would be written back to disk.
/// </summary>
internal sealed class TemplateTmpfs
{
    public const string MarkerName = ".stencil-tmpfs";

    private readonly string _mountsFile;

    public TemplateTmpfs(string path, string mountsFile = "/proc/self/mounts")
    {
        Path = path;
        _mountsFile = mountsFile;
    }

    public string Path { get; }

    public bool IsTmpfsMountPoint => MountTable.At(ReadMounts(), Path) is { FileSystemType: "tmpfs" };

    public bool MountedByStencil => IsTmpfsMountPoint && File.Exists(System.IO.Path.Combine(Path, MarkerName));

    /// <summary>Bytes an unprivileged writer could still write there (statvfs's f_bavail); null: the path is not there.</summary>
    public long? AvailableBytes()
    {
        try
        {
            return Directory.Exists(Path) ? new DriveInfo(Path).AvailableFreeSpace : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Mounts the tmpfs if the path is not one already (call under the template lock).</summary>
    /// <returns>True when this call mounted it.</returns>
    public bool EnsureMounted(long sizeBytes)
    {
        if (IsTmpfsMountPoint)
            return false;
        PrivateFiles.CreateDirectory(Path);
        var options = string.Create(CultureInfo.InvariantCulture, $"mode=0700,size={sizeBytes}");
        if (Libc.Mount("tmpfs", Path, "tmpfs", LibC.MS_NOSUID | LibC.MS_NODEV, options) != 0)
            throw Errno.LastException($"mounting a tmpfs for templates on {Path} ({options})");
        File.WriteAllText(System.IO.Path.Combine(Path, MarkerName), "mounted by the Stencil VM factory; `stencil factory destroy` unmounts it\n");
        return true;
    }

    /// <summary>
    /// Detaches the tmpfs Stencil mounted (lazily: running clones keep their mapping of the memory
    /// file, and the kernel frees the pages when the last one exits), then removes the empty folder.
    /// </summary>
    /// <returns>True when something was unmounted.</returns>
    public bool UnmountIfOurs()
    {
        if (!MountedByStencil)
            return false;
        if (Libc.Umount2(Path, LibC.MNT_DETACH) != 0)
            throw Errno.LastException($"unmounting the template tmpfs {Path}");
        try
        {
            Directory.Delete(Path);
        }
        catch (IOException)
        {
            // Something else is in the folder under the mount: leave it.
        }
        return true;
    }

    private IReadOnlyList<MountTable.Entry> ReadMounts() => MountTable.Parse(File.ReadAllText(_mountsFile));
}
