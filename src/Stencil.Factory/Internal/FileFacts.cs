using Stencil.Factory.Internal.Interop;

namespace Stencil.Factory.Internal;

/// <summary>
/// What statx(2) says about a file: its apparent size, the bytes actually allocated (a template's
/// memory file on tmpfs is sparse: 256 MiB apparent, ~100 MiB allocated), its inode and mtime.
/// </summary>
internal readonly record struct FileFacts(long Size, long AllocatedBytes, ulong Inode, long MtimeSeconds, uint MtimeNanoseconds)
{
    /// <summary>Null when the file does not exist; other failures throw.</summary>
    public static unsafe FileFacts? Read(string path)
    {
        var buffer = stackalloc byte[Libc.StatxSize];
        if (Libc.Statx(Libc.AT_FDCWD, path, 0, Libc.STATX_SIZE | Libc.STATX_BLOCKS | Libc.STATX_INO | Libc.STATX_MTIME, buffer) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno == Libc.ENOENT)
                return null;
            throw Libc.Error(errno, "statx " + path);
        }
        return new FileFacts(
            Size: *(long*)(buffer + Libc.StatxSizeOffset),
            AllocatedBytes: *(long*)(buffer + Libc.StatxBlocksOffset) * 512,
            Inode: *(ulong*)(buffer + Libc.StatxInoOffset),
            MtimeSeconds: *(long*)(buffer + Libc.StatxMtimeOffset),
            MtimeNanoseconds: *(uint*)(buffer + Libc.StatxMtimeOffset + 8));
    }
}
