using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// statx(2) of <paramref name="path"/> (relative to the working folder; symlinks followed unless
    /// AT_SYMLINK_NOFOLLOW is in <paramref name="flags"/>). The struct is Tmds.LibC's: one layout on
    /// every architecture. 0, or -1.
    /// </summary>
    internal static int Statx(string path, uint mask, out statx result, int flags = 0)
    {
        statx buffer;
        int rc;
        fixed (byte* p = Utf8.Z(path))
            rc = LibC.statx(LibC.AT_FDCWD, p, flags, mask, &buffer);
        result = buffer;
        return rc;
    }

    /// <summary>True when <paramref name="path"/> (symlinks followed) is a block device node.</summary>
    internal static bool IsBlockDevice(string path) =>
        Statx(path, LibC.STATX_TYPE, out var facts) == 0 && (facts.stx_mode & (ushort)LibC.S_IFMT) == (ushort)LibC.S_IFBLK;
}
