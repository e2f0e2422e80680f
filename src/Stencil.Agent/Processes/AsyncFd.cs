using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Stencil.Agent.Processes;

/// <summary>
/// Asynchronous reads and writes on a pipe or pty fd without a blocked thread: .NET's Socket accepts
/// a non-socket fd (it falls back to read/write) and waits for readiness through its epoll engine,
/// exactly as System.IO.Pipes does for pipes on Unix. Owns the fd.
/// </summary>
internal sealed class AsyncFd : IDisposable
{
    private readonly SafeSocketHandle _handle;
    private readonly Socket _socket;
    private readonly bool _isTerminal;
    private int _disposed;

    internal AsyncFd(int fd, bool isTerminal)
    {
        _handle = new SafeSocketHandle(fd, ownsHandle: true);
        _socket = new Socket(_handle);
        _isTerminal = isTerminal;
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The fd, for the calls Socket does not make (fcntl, ioctl). Kept here rather than read
    /// from Socket.SafeHandle, which would mark the handle as exposed to code the Socket does not know.</summary>
    internal SafeHandle Handle => _handle;

    /// <summary>Bytes that can be read without waiting (FIONREAD works on pipes and ttys).</summary>
    internal int Available
    {
        get
        {
            try
            {
                return _socket.Available;
            }
            catch (SocketException)
            {
                return 0;
            }
        }
    }

    /// <summary>Waits for at least one byte; 0 at end of stream (a pty master reports EIO then).</summary>
    internal async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException) when (_isTerminal)
        {
            // EIO: every slave side of the terminal is closed; the process and its children are gone.
            return 0;
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>Reads what is available without waiting (after a successful ReadAsync).</summary>
    internal int ReadAvailable(Span<byte> buffer)
    {
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    internal async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int n;
            try
            {
                n = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw StencilException.FailedPrecondition($"the process no longer reads its input: {ex.Message}");
            }
            data = data[n..];
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _socket.Dispose();
    }
}
