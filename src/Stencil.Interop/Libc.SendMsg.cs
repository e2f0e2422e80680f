using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// sendmsg(2) of <paramref name="data"/> with <paramref name="fd"/> attached (SCM_RIGHTS): the fd
    /// travels with the first byte. The byte count sent, or -1 (EAGAIN, EINTR ...: the caller decides).
    /// </summary>
    internal static nint SendMsgWithFd(SafeHandle socket, ReadOnlySpan<byte> data, SafeHandle fd, int flags)
    {
        using var socketLease = new FdLease(socket);
        using var fdLease = new FdLease(fd);
        var control = stackalloc byte[ScmRights.SpaceForOneFd];
        var controlLength = ScmRights.Write(new Span<byte>(control, ScmRights.SpaceForOneFd), fdLease.Fd);
        fixed (byte* bytes = data)
        {
            var iov = new iovec { iov_base = bytes, iov_len = data.Length };
            var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlLength };
            return (nint)(long)LibC.sendmsg(socketLease.Fd, &message, flags);
        }
    }
}
