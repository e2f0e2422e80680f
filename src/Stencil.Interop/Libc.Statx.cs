using System.Runtime.InteropServices;
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

    /// <summary>statx(2) of <paramref name="name"/> (NUL-terminated bytes) in <paramref name="directory"/>;
    /// with AT_EMPTY_PATH and an empty name, of the open file itself. 0, or -1.</summary>
    internal static int StatxAt(SafeHandle directory, byte[] name, uint mask, int flags, out statx result)
    {
        using var lease = new FdLease(directory);
        statx buffer;
        int rc;
        fixed (byte* p = name)
            rc = LibC.statx(lease.Fd, p, flags, mask, &buffer);
        result = buffer;
        return rc;
    }

    /// <summary>statx(2) of an open file (fstat). 0, or -1.</summary>
    internal static int Fstatx(SafeHandle fd, uint mask, out statx result) =>
        StatxAt(fd, [0], mask, LibC.AT_EMPTY_PATH, out result);

    /// <summary>The S_IFMT bits of a statx result (S_IFREG, S_IFDIR, S_IFLNK, ...).</summary>
    internal static int FileType(in statx facts) => facts.stx_mode & (ushort)LibC.S_IFMT;

    /// <summary>True when <paramref name="path"/> (symlinks followed) is a block device node.</summary>
    internal static bool IsBlockDevice(string path) =>
        Statx(path, LibC.STATX_TYPE, out var facts) == 0 && FileType(facts) == (ushort)LibC.S_IFBLK;
}
