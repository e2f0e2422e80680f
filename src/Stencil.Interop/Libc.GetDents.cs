using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// getdents64(2): fills <paramref name="buffer"/> with linux_dirent64 records of the open folder
    /// (see <see cref="DirectoryEntries"/>); the byte count, 0 at the end, -1 on failure. Declared
    /// here: Tmds.LibC has no readdir family, and an fd-relative walk needs one that reads an fd.
    /// </summary>
    internal static nint GetDents64(SafeHandle directory, Span<byte> buffer)
    {
        using var lease = new FdLease(directory);
        fixed (byte* p = buffer)
            return GetDents64Core(lease.Fd, p, (nuint)buffer.Length);
    }

    [LibraryImport(Lib, EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64Core(int fd, byte* buffer, nuint count);
}
