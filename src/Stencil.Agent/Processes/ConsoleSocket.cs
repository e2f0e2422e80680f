using System.Net.Sockets;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Processes;

/// <summary>
/// The unix socket handed to the OCI runtime as --console-socket: the runtime creates the pty,
/// connects here and sends the master fd with SCM_RIGHTS, then goes on. The agent keeps the master.
/// </summary>
internal sealed class ConsoleSocket : IConsoleSocket
{
    private readonly Socket _listener;

    internal ConsoleSocket(string path)
    {
        Path = path;
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
    }

    public string Path { get; }

    /// <summary>The pty master fd the runtime sent.</summary>
    public async Task<int> ReceiveMasterAsync(CancellationToken cancellationToken)
    {
        using var connection = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            // A zero-byte receive completes when data is ready, without consuming it; then recvmsg
            // takes the message and its control part in one go.
            await connection.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var fd = TryReceiveFd(connection);
            if (fd >= 0)
                return fd;
            if (fd == -2)
                throw StencilException.Internal("the OCI runtime closed the console socket without sending a terminal");
        }
    }

    /// <returns>The fd; -1 when nothing was there yet; -2 at end of stream.</returns>
    private static int TryReceiveFd(Socket connection)
    {
        Span<byte> data = stackalloc byte[4096];
        var n = Libc.RecvMsgWithFd(connection.SafeHandle, data, LibC.MSG_DONTWAIT | LibC.MSG_CMSG_CLOEXEC, out var fd);
        if (n < 0)
        {
            var errno = Errno.Last;
            if (errno == LibC.EAGAIN || errno == LibC.EINTR)
                return -1;
            throw Errno.Exception(errno, "recvmsg on the console socket");
        }
        if (fd >= 0)
            return fd;
        return n == 0 ? -2 : -1;
    }

    public void Dispose()
    {
        _listener.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }
}
