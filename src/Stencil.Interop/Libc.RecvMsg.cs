using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// recvmsg(2) into <paramref name="data"/>, taking an fd sent with SCM_RIGHTS if one came along
    /// (<paramref name="fd"/>, else -1; pass MSG_CMSG_CLOEXEC to have it close-on-exec). The byte
    /// count, 0 at end of stream, or -1.
    /// </summary>
    internal static nint RecvMsgWithFd(SafeHandle socket, Span<byte> data, int flags, out int fd)
    {
        fd = -1;
        using var lease = new FdLease(socket);
        // Room for more than one control message: anything beyond the first fd is truncated (MSG_CTRUNC).
        const int ControlSpace = 64;
        var control = stackalloc byte[ControlSpace];
        fixed (byte* bytes = data)
        {
            var iov = new iovec { iov_base = bytes, iov_len = data.Length };
            var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = ControlSpace };
            var n = (nint)(long)LibC.recvmsg(lease.Fd, &message, flags);
            if (n >= 0 && ScmRights.TryRead(new ReadOnlySpan<byte>(control, ControlSpace), (int)(uint)message.msg_controllen, out var received))
                fd = received;
            return n;
        }
    }
}
