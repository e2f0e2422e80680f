using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// accept4(2), the peer's address not asked for. The connection is a SafeSocketHandle, ready for
    /// System.Net.Sockets.Socket to take over; an invalid handle on failure.
    /// </summary>
    internal static SafeSocketHandle Accept4(SafeHandle listener, int flags)
    {
        using var lease = new FdLease(listener);
        var fd = LibC.accept4(lease.Fd, null, null, flags);
        var errno = Errno.Last;
        var connection = new SafeSocketHandle(fd, ownsHandle: true);
        Marshal.SetLastPInvokeError(errno); // whatever the handle's constructor does, the caller reads accept4's errno
        return connection;
    }
}
