using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>openat(2): <paramref name="name"/> relative to <paramref name="directory"/>. An invalid handle on failure.</summary>
    internal static SafeFileHandle OpenAt(SafeHandle directory, string name, int flags, int mode = 0)
    {
        using var lease = new FdLease(directory);
        fixed (byte* p = Utf8.Z(name))
            return new SafeFileHandle(LibC.openat(lease.Fd, p, flags, (ushort)mode), ownsHandle: true);
    }

    /// <summary>mkdirat(2). 0, or -1.</summary>
    internal static int MkdirAt(SafeHandle directory, string name, int mode)
    {
        using var lease = new FdLease(directory);
        fixed (byte* p = Utf8.Z(name))
            return LibC.mkdirat(lease.Fd, p, (ushort)mode);
    }

    /// <summary>unlinkat(2): never follows a link (a link is what goes); AT_REMOVEDIR removes an empty folder. 0, or -1.</summary>
    internal static int UnlinkAt(SafeHandle directory, string name, int flags) => UnlinkAt(directory, Utf8.Z(name)!, flags);

    /// <inheritdoc cref="UnlinkAt(SafeHandle, string, int)"/>
    /// <param name="name">NUL-terminated bytes (a name read from the folder, which need not be UTF-8).</param>
    internal static int UnlinkAt(SafeHandle directory, byte[] name, int flags)
    {
        using var lease = new FdLease(directory);
        fixed (byte* p = name)
            return LibC.unlinkat(lease.Fd, p, flags);
    }

    /// <summary>pread(2): the byte count, 0 at end of file, -1 on failure.</summary>
    internal static nint PRead(SafeHandle fd, Span<byte> buffer, long offset)
    {
        using var lease = new FdLease(fd);
        fixed (byte* p = buffer)
            return (nint)(long)LibC.pread(lease.Fd, p, buffer.Length, offset);
    }

    /// <summary>lseek(2) to <paramref name="offset"/> from SEEK_SET; the new offset, or -1.</summary>
    internal static long SeekTo(SafeHandle fd, long offset)
    {
        using var lease = new FdLease(fd);
        return LibC.lseek(lease.Fd, offset, LibC.SEEK_SET);
    }

    /// <summary>
    /// lseek(2) with SEEK_DATA: the start of the next data at or after <paramref name="offset"/>; -1 with
    /// ENXIO when only a hole is left (a file system without holes reports all of the file as data).
    /// </summary>
    internal static long SeekData(SafeHandle fd, long offset)
    {
        using var lease = new FdLease(fd);
        return LibC.lseek(lease.Fd, offset, 3 /* SEEK_DATA */);
    }

    /// <summary>lseek(2) with SEEK_HOLE: the start of the next hole at or after <paramref name="offset"/> (the file's end counts as one).</summary>
    internal static long SeekHole(SafeHandle fd, long offset)
    {
        using var lease = new FdLease(fd);
        return LibC.lseek(lease.Fd, offset, 4 /* SEEK_HOLE */);
    }
}
