using System.Net.Sockets;

namespace Stencil.Agent.PortForward;

/// <summary>
/// One forwarded TCP connection inside the guest: the agent's socket to 127.0.0.1:port, read and
/// written in chunks by the host's unary calls. A read waits for at least one byte and returns what
/// the kernel already holds, up to the caller's limit. Closing (by the host, or with the sandbox)
/// ends a pending read with end of stream rather than an error: the host is told the stream is over.
/// </summary>
internal sealed class PortForwardConnection : IDisposable
{
    internal const int MaxChunk = 1 << 20;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _disposed;

    internal PortForwardConnection(ulong id, int port, Socket socket)
    {
        Id = id;
        Port = port;
        _socket = socket;
    }

    internal ulong Id { get; }

    internal int Port { get; }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal async Task<byte[]> ReadAsync(int maxLength, CancellationToken cancellationToken)
    {
        if (maxLength <= 0 || maxLength > MaxChunk)
            maxLength = MaxChunk;
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsDisposed)
                return [];
            // One receive: a stream socket returns whatever it holds (at least one byte) up to the buffer's size.
            var buffer = new byte[Math.Min(maxLength, 64 * 1024)];
            var available = Available();
            if (available > buffer.Length)
                buffer = new byte[Math.Min(maxLength, available)];
            var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return n == buffer.Length ? buffer : buffer.AsSpan(0, n).ToArray();
        }
        catch (Exception ex) when (ex is ObjectDisposedException || (ex is SocketException && IsDisposed))
        {
            return [];
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            // The server reset the connection: for the host, that is the end of the stream.
            return [];
        }
        finally
        {
            _readLock.Release();
        }
    }

    internal async Task<int> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            for (var offset = 0; offset < data.Length;)
                offset += await _socket.SendAsync(data[offset..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return data.Length;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            throw StencilException.FailedPrecondition($"port forward stream {Id} to 127.0.0.1:{Port}: cannot write: {ex.Message}");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The host's side ended (its client shut down writing): the server reads end of file; its answer still flows back.</summary>
    internal void CloseWrite()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // Already closed, or the server is gone: nothing is left to end.
        }
    }

    private int Available()
    {
        try
        {
            return _socket.Available;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // Dispose aborts a pending receive (it completes with OperationAborted, read as end of stream).
        _socket.Dispose();
    }
}
