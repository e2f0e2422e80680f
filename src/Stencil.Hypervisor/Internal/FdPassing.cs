using System.Runtime.InteropServices;
using Stencil.Hypervisor.Internal.Interop;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Sends bytes with one file descriptor attached (SCM_RIGHTS) on a unix stream socket. QEMU's
/// monitor takes the fd that arrives with a command's bytes and files it under getfd's name.
/// </summary>
internal static unsafe class FdPassing
{
    /// <summary>CMSG_SPACE(sizeof(int)) on 64-bit Linux: 16-byte header + 4-byte fd, padded to 8.</summary>
    private const int ControlBufferBytes = 24;

    /// <summary>CMSG_LEN(sizeof(int)).</summary>
    private const int ControlMessageLength = 20;

    /// <summary>
    /// One sendmsg(2). Returns the number of bytes sent (the fd travels with the first byte), or -1
    /// when the socket's buffer is full (EAGAIN) and nothing was sent.
    /// </summary>
    public static int TrySend(SafeHandle socket, ReadOnlySpan<byte> data, SafeHandle fd)
    {
        if (data.IsEmpty)
            throw new ArgumentException("at least one byte must carry the fd", nameof(data));

        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var control = stackalloc byte[ControlBufferBytes];
            new Span<byte>(control, ControlBufferBytes).Clear();
            var header = (Libc.ControlMessageHeader*)control;
            header->Length = ControlMessageLength;
            header->Level = Libc.SOL_SOCKET;
            header->Type = Libc.SCM_RIGHTS;
            *(int*)(control + sizeof(Libc.ControlMessageHeader)) = checked((int)fd.DangerousGetHandle());

            fixed (byte* bytes = data)
            {
                var iov = new Libc.IOVector { Base = bytes, Length = (nuint)data.Length };
                var message = new Libc.MessageHeader
                {
                    IOVectors = &iov,
                    IOVectorCount = 1,
                    Control = control,
                    ControlLength = ControlBufferBytes,
                };
                while (true)
                {
                    var sent = Libc.sendmsg(socket, &message, Libc.MSG_NOSIGNAL);
                    if (sent >= 0)
                        return (int)sent;
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                        continue;
                    if (errno == Libc.EAGAIN)
                        return -1;
                    throw new IOException(Libc.Describe("sendmsg", errno));
                }
            }
        }
        finally
        {
            if (added)
                fd.DangerousRelease();
        }
    }
}
