using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Factory.Internal;

/// <summary>
/// What statx(2) says about a file: its apparent size, the bytes actually allocated (a template's
/// memory file on tmpfs is sparse: 256 MiB apparent, ~100 MiB allocated), its inode and mtime.
/// </summary>
internal readonly record struct FileFacts(long Size, long AllocatedBytes, ulong Inode, long MtimeSeconds, uint MtimeNanoseconds)
{
    /// <summary>Null when the file does not exist; other failures throw.</summary>
    public static FileFacts? Read(string path)
    {
        if (Libc.Statx(path, LibC.STATX_SIZE | LibC.STATX_BLOCKS | LibC.STATX_INO | LibC.STATX_MTIME, out var facts) != 0)
        {
            var errno = Errno.Last;
            if (errno == LibC.ENOENT)
                return null;
            throw Errno.Exception(errno, "statx " + path);
        }
        return new FileFacts(
            Size: (long)facts.stx_size,
            AllocatedBytes: (long)facts.stx_blocks * 512,
            Inode: facts.stx_ino,
            MtimeSeconds: facts.stx_mtime.tv_sec,
            MtimeNanoseconds: facts.stx_mtime.tv_nsec);
    }
}
