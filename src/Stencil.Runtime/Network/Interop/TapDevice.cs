using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Network.Interop;

/// <summary>
/// Creates a tap inside a network namespace and returns its fd: on a thread inside the pod's
/// namespace (<see cref="NetworkNamespaceThread"/>), opens /dev/net/tun and creates the tap with
/// TUNSETIFF; the fd keeps pointing at the tap in the pod's namespace wherever it is used afterwards
/// (QEMU, after getfd).
/// </summary>
internal static unsafe class TapDevice
{
    /// <summary>IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, single queue: what QEMU's tap backend expects of an fd it
    /// is given (it probes IFF_VNET_HDR with TUNGETIFF and then uses offloads through the vnet header).</summary>
    public const short Flags = IfReq.IFF_TAP | IfReq.IFF_NO_PI | IfReq.IFF_VNET_HDR;

    public static Task<SafeFileHandle> CreateInNamespaceAsync(string networkNamespacePath, string tapName)
    {
        ValidateName(tapName);
        return NetworkNamespaceThread.RunAsync(networkNamespacePath, "stencil-tap-netns", () => OpenTap(tapName, networkNamespacePath));
    }

    /// <summary>The flags the tap behind <paramref name="fd"/> was created with (TUNGETIFF).</summary>
    public static short GetFlags(SafeFileHandle fd)
    {
        var request = default(IfReq);
        if (Libc.Ioctl(fd, Libc.TUNGETIFF, &request) != 0)
            throw Errno.LastException("TUNGETIFF");
        return request.Flags;
    }

    internal static void ValidateName(string tapName)
    {
        if (string.IsNullOrEmpty(tapName) || Encoding.ASCII.GetByteCount(tapName) >= IfReq.NameSize
            || tapName.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || c > 0x7e) || tapName is "." or "..")
            throw StencilException.InvalidArgument($"tap name \"{tapName}\": expected 1 to 15 ASCII characters without '/', ':' or spaces");
    }

    private static SafeFileHandle OpenTap(string tapName, string networkNamespacePath)
    {
        var handle = Errno.Check(Libc.Open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC), "opening the tun device /dev/net/tun");
        var request = IfReq.For(tapName, Flags);
        if (Libc.Ioctl(handle, Libc.TUNSETIFF, &request) != 0)
        {
            var errno = Errno.Last;
            handle.Dispose();
            throw Errno.Exception(errno, $"creating tap {tapName} in {networkNamespacePath} (TUNSETIFF)");
        }
        return handle;
    }
}
