using System.IO.Enumeration;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Pod;

/// <summary>
/// A container's root file system as a sparse ext4 image ([hypervisor] shared_fs = "none"): mke2fs copies a
/// folder into a new file system (<c>mkfs.ext4 -d</c>, e2fsprogs 1.43 or later: files, links, hard links,
/// device nodes, owners, modes, xattrs such as file capabilities). Only the blocks written take space, so the
/// image is made roomy: the container writes into it.
/// </summary>
internal static class RootfsImageBuilder
{
    private const long MiB = 1024 * 1024;

    /// <summary>ext4's block size, the least a non-empty file or a folder takes.</summary>
    private const long Block = 4096;

    /// <summary>mke2fs's bytes per inode for file systems of 512 MiB to 4 TiB (its "default" usage type).</summary>
    private const long BytesPerInode = 16384;

    /// <summary>A big rootfs copies for a while; the create's own deadline (containerd's) still applies.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What <paramref name="folder"/> holds: bytes as ext4 would take them (each file rounded up to whole blocks,
    /// a block per folder) and the number of entries (each an inode). Links are counted, never followed (one
    /// pointing outside is the host's file); hard links count once per name, which only makes the image larger.
    /// </summary>
    public static (long Bytes, long Entries) Measure(string folder)
    {
        long bytes = Block, entries = 1;
        // Not DirectoryInfo's recursive enumeration: it walks into links to folders (an absolute one leads into
        // the host's tree, /usr/bin/X11 -> . never ends).
        var all = new FileSystemEnumerable<long>(folder, (ref FileSystemEntry e) => IsLink(ref e) ? 0 : e.IsDirectory ? Block : (e.Length + Block - 1) / Block * Block,
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldRecursePredicate = (ref FileSystemEntry e) => !IsLink(ref e),
        };
        foreach (var size in all)
        {
            entries++;
            bytes += size;
        }
        return (bytes, entries);
    }

    private static bool IsLink(ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) != 0;

    /// <summary>The image's size in MiB: at least <paramref name="leastMiB"/>, and twice what the rootfs holds plus 64 MiB
    /// (room for what the container writes, ext4's journal and metadata).</summary>
    public static long SizeMiB(long usedBytes, int leastMiB) =>
        Math.Max(leastMiB, (2 * usedBytes + MiB - 1) / MiB + 64);

    /// <summary>
    /// mkfs.ext4's arguments. Inodes: mke2fs's default (one per 16 KiB) unless the rootfs has many small files, then
    /// twice its entries plus room, so the copy never runs out. nodiscard and lazy initialization: the file stays
    /// sparse and mke2fs writes only what the copy needs (the kernel zeroes the inode tables in the background).
    /// </summary>
    public static IReadOnlyList<string> MkfsArguments(string folder, string image, long sizeMiB, long entries) =>
    [
        "-q", "-F", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
        "-N", Math.Max(sizeMiB * MiB / BytesPerInode, 2 * entries + 4096).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-d", folder, image, $"{sizeMiB}M",
    ];

    /// <summary>Makes <paramref name="image"/> (0600: an image's files are no one else's business) from <paramref name="folder"/>;
    /// on failure no image is left.</summary>
    public static async Task<long> MakeAsync(string folder, string image, int leastMiB, ICommandRunner? runner, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows()) // never; the guard tells the platform analyzer so
            throw new PlatformNotSupportedException();
        var (bytes, entries) = Measure(folder);
        var sizeMiB = SizeMiB(bytes, leastMiB);
        try
        {
            new FileStream(image, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite })
                .Dispose();
            var mkfs = NetworkTools.FindExecutable("mkfs.ext4", "e2fsprogs", "a container's rootfs image (shared_fs = \"none\")");
            (await (runner ?? new ProcessCommandRunner { Timeout = s_timeout }).RunAsync(mkfs, MkfsArguments(folder, image, sizeMiB, entries), cancellationToken)
                .ConfigureAwait(false)).EnsureSuccess($"rootfs image {image}");
            return sizeMiB;
        }
        catch
        {
            File.Delete(image);
            throw;
        }
    }
}
