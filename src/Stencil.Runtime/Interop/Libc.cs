using System.Runtime.InteropServices;

namespace Stencil.Runtime.Interop;

/// <summary>The few libc calls the runtime makes directly. errno becomes an exception in <see cref="Errno"/>.</summary>
internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint Realpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    internal static partial void Free(nint pointer);

    internal const int O_WRONLY = 1;
    internal const int O_PATH = 0x200000;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;
    internal const int MNT_DETACH = 2;
    internal const int EINVAL = 22;
    internal const int ENOENT = 2;
    internal const int EBUSY = 16;
}
