using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Stencil.Factory.Internal.Interop;

/// <summary>
/// The libc calls the factory makes itself: the template tmpfs (mount, umount2), the build lock
/// (open, flock) and allocated sizes (statx). errno becomes an exception only in <see cref="Error"/>.
/// </summary>
internal static unsafe partial class Libc
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EWOULDBLOCK = EAGAIN;
    public const int EINVAL = 22;
    public const int ENOENT = 2;
    public const int EBUSY = 16;
    public const int EPERM = 1;
    public const int EACCES = 13;

    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NOFOLLOW = 0x20000;

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int LOCK_UN = 8;

    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const int MNT_DETACH = 2;

    public const int AT_FDCWD = -100;
    public const uint STATX_SIZE = 0x200;
    public const uint STATX_BLOCKS = 0x400;
    public const uint STATX_INO = 0x100;
    public const uint STATX_MTIME = 0x40;

    /// <summary>struct statx is 256 bytes on every Linux architecture (unlike struct stat).</summary>
    public const int StatxSize = 256;
    public const int StatxInoOffset = 32;
    public const int StatxSizeOffset = 40;
    public const int StatxBlocksOffset = 48;
    public const int StatxMtimeOffset = 112; // struct statx_timestamp { s64 tv_sec; u32 tv_nsec; s32 pad; }

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fileSystemType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    /// <summary>open(2); the mode is read only with O_CREAT.</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The one place an errno becomes a StencilException: "mount tmpfs on /run/x: Operation not permitted (errno 1)".</summary>
    public static StencilException Error(int errno, string what)
    {
        var kind = errno switch
        {
            ENOENT => ErrorKind.NotFound,
            EINVAL => ErrorKind.InvalidArgument,
            EPERM or EACCES => ErrorKind.PermissionDenied,
            EBUSY => ErrorKind.FailedPrecondition,
            _ => ErrorKind.Internal,
        };
        return new StencilException(kind, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
