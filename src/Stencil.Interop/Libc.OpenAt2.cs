using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>openat2(2)'s number: one on every architecture (it came after the tables were unified, Linux 5.6).</summary>
    private const long SYS_openat2 = 437;

    /// <summary>The RESOLVE_* bits of struct open_how (Tmds.Linux.LibC has them as int).</summary>
    internal static ulong ResolveNoXdev => (ulong)LibC.RESOLVE_NO_XDEV;
    internal static ulong ResolveNoMagicLinks => (ulong)LibC.RESOLVE_NO_MAGICLINKS;
    internal static ulong ResolveNoSymlinks => (ulong)LibC.RESOLVE_NO_SYMLINKS;
    internal static ulong ResolveBeneath => (ulong)LibC.RESOLVE_BENEATH;

    /// <summary>
    /// openat2(2): <paramref name="path"/> relative to <paramref name="directory"/>, resolved as
    /// <paramref name="resolve"/> (RESOLVE_*) allows. An invalid handle on failure; errno ENOSYS on a
    /// kernel before 5.6. Declared here: glibc has no wrapper, so it goes through syscall(2).
    /// </summary>
    internal static SafeFileHandle OpenAt2(SafeHandle directory, string path, int flags, int mode, ulong resolve) =>
        OpenAt2(directory, Utf8.Z(path)!, flags, mode, resolve);

    /// <inheritdoc cref="OpenAt2(SafeHandle, string, int, int, ulong)"/>
    /// <param name="path">NUL-terminated bytes (a name read from the folder, which need not be UTF-8).</param>
    internal static SafeFileHandle OpenAt2(SafeHandle directory, byte[] path, int flags, int mode, ulong resolve)
    {
        using var lease = new FdLease(directory);
        var how = new OpenHow { Flags = (uint)flags, Mode = (uint)mode, Resolve = resolve };
        fixed (byte* p = path)
            return new SafeFileHandle((nint)Syscall4(SYS_openat2, lease.Fd, (nint)p, (nint)(&how), sizeof(OpenHow)), ownsHandle: true);
    }

    /// <summary>struct open_how (linux/openat2.h); the kernel takes its size as its version.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    // syscall(2) is variadic; on x86-64 and arm64 Linux integer arguments travel in the same registers
    // either way, and glibc's syscall reads six of them whatever the caller passed.
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, nint a, nint b, nint c, nint d);
}
