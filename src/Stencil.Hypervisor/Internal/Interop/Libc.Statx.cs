using System.Runtime.InteropServices;

namespace Stencil.Hypervisor.Internal.Interop;

internal static unsafe partial class Libc
{
    private const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 0x1;
    private const int S_IFMT = 0xF000;
    private const int S_IFBLK = 0x6000;

    // struct statx has one layout on every architecture (unlike struct stat): stx_mode, a __u16, sits
    // at byte 28; the whole struct is 256 bytes.
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>True when <paramref name="path"/> (symlinks followed) is a block device node.</summary>
    public static bool IsBlockDevice(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (Statx(AT_FDCWD, path, 0, STATX_TYPE, buffer) != 0)
            return false;
        return (*(ushort*)(buffer + StatxModeOffset) & S_IFMT) == S_IFBLK;
    }
}
