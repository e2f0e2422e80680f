using System.Runtime.InteropServices;

namespace Stencil.Runtime.Network.Interop;

/// <summary>The libc calls that open a tap inside another network namespace. errno becomes an exception
/// in Stencil.Runtime.Interop.Errno.</summary>
internal static unsafe partial class NetLibc
{
    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, void* argument);

    internal const int O_RDONLY = 0;
    internal const int O_RDWR = 2;
    internal const int O_CLOEXEC = 0x80000;
    internal const int CLONE_NEWNET = 0x40000000;

    /// <summary>_IOW('T', 202, int) from linux/if_tun.h.</summary>
    internal const uint TUNSETIFF = 0x400454ca;

    /// <summary>_IOR('T', 210, unsigned int): the flags the fd's tap was set up with.</summary>
    internal const uint TUNGETIFF = 0x800454d2;

    internal const short IFF_TAP = 0x0002;
    internal const short IFF_NO_PI = 0x1000;
    internal const short IFF_VNET_HDR = 0x4000;
    internal const short IFF_MULTI_QUEUE = 0x0100;

    /// <summary>sizeof(struct ifreq): IFNAMSIZ name, then a 24-byte union whose first member is the flags.</summary>
    internal const int IfreqSize = 40;
    internal const int IfNameSize = 16;
}
