using System.Runtime.InteropServices;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Sends bytes with one file descriptor attached (SCM_RIGHTS) on a unix stream socket. QEMU's
/// monitor takes the fd that arrives with a command's bytes and files it under getfd's name.
/// </summary>
internal static class FdPassing
{
    /// <summary>
    /// One sendmsg(2). Returns the number of bytes sent (the fd travels with the first byte), or -1
    /// when the socket's buffer is full (EAGAIN) and nothing was sent.
    /// </summary>
    public static int TrySend(SafeHandle socket, ReadOnlySpan<byte> data, SafeHandle fd)
    {
        if (data.IsEmpty)
            throw new ArgumentException("at least one byte must carry the fd", nameof(data));

        while (true)
        {
            var sent = Libc.SendMsgWithFd(socket, data, fd, LibC.MSG_NOSIGNAL);
            if (sent >= 0)
                return (int)sent;
            var errno = Errno.Last;
            if (errno == LibC.EINTR)
                continue;
            if (errno == LibC.EAGAIN)
                return -1;
            throw new IOException(Errno.Describe("sendmsg", errno));
        }
    }
}
