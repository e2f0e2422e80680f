using System.Collections.Concurrent;
using System.Net.Sockets;
using Google.Protobuf;
using Stencil.Interop;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc;

/// <summary>
/// A ttRPC 1.1 server: register typed handlers, then serve unix socket connections
/// (<see cref="ListenAsync"/>) or any duplex stream (<see cref="ServeConnectionAsync"/>). Every request
/// runs concurrently; a handler's StencilException reaches the client with its kind and message.
/// </summary>
public sealed class TtrpcServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, MethodHandler>> _services = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _running = [];
    private int _rejectedPeers;

    public TtrpcServer()
    {
        RequiredPeerUid = Libc.GetEffectiveUserId();
    }

    /// <summary>The uid a unix socket peer must have (SO_PEERCRED); ours unless a test says otherwise.</summary>
    internal uint RequiredPeerUid { get; set; }

    /// <summary>How many connections <see cref="ListenAsync"/> refused because of the peer's uid.</summary>
    internal int RejectedPeers => Volatile.Read(ref _rejectedPeers);

    /// <summary>Binds <paramref name="handler"/> to <paramref name="method"/>. Registering the same
    /// method twice is AlreadyExists. May be called while serving.</summary>
    public void Register<TRequest, TResponse>(
        TtrpcMethod<TRequest, TResponse> method, Func<TRequest, TtrpcCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        var methods = _services.GetOrAdd(method.Service, static _ => new ConcurrentDictionary<string, MethodHandler>(StringComparer.Ordinal));
        if (!methods.TryAdd(method.Name, new MethodHandler<TRequest, TResponse>(method, handler)))
            throw new StencilException(ErrorKind.AlreadyExists, $"ttrpc method {method.FullName} is already registered");
    }

    /// <summary>
    /// Serves one connection until the peer closes it, it fails, <paramref name="cancellationToken"/>
    /// fires or the server is disposed; handlers still running are then cancelled and awaited. The
    /// server owns <paramref name="stream"/> and disposes it. Completes normally in all those cases.
    /// </summary>
    public async Task ServeConnectionAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        using var connection = new ServerConnection(this, stream, stop.Token);
        var run = connection.RunAsync();
        lock (_lock)
            _running.Add(run);
        try
        {
            await run.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
                _running.Remove(run);
        }
    }

    /// <summary>
    /// Listens on <paramref name="unixSocketPath"/> ("unix://" prefix allowed) and serves every
    /// connection whose peer runs as our uid; others are closed at once. A stale socket file (nobody
    /// answers on it) is replaced; a live one is AlreadyExists. Runs until
    /// <paramref name="cancellationToken"/> fires or the server is disposed, then stops accepting,
    /// removes the socket file, cancels this listener's connections, waits for them, and completes
    /// normally.
    /// </summary>
    public async Task ListenAsync(string unixSocketPath, CancellationToken cancellationToken)
    {
        var path = UnixSocketPath.Normalize(unixSocketPath);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var connections = new List<Task>();
        var listener = await BindAsync(path, stop.Token).ConfigureAwait(false);
        try
        {
            await AcceptLoopAsync(listener, path, connections, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            // Stop accepting first, then end this listener's connections and wait for them.
            listener.Dispose();
            TryDeleteSocketFile(path);
            stop.Cancel();
            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Serves connections accepted on a socket that is already bound and listening (one a parent
    /// process bound and handed over, as containerd shims do), with the same peer-uid check as
    /// <see cref="ListenAsync"/>. The caller keeps the listener: it is neither closed nor unlinked.
    /// Completes when <paramref name="cancellationToken"/> fires or the server is disposed, after
    /// this listener's connections have ended.
    /// </summary>
    public async Task ServeListenerAsync(Socket listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var connections = new List<Task>();
        try
        {
            await AcceptLoopAsync(listener, listener.LocalEndPoint?.ToString() ?? "(inherited)", connections, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync(Socket listener, string what, List<Task> connections, CancellationToken stop)
    {
        while (true)
        {
            Socket peer;
            try
            {
                peer = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the owner closed the listener
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted
                or SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Transient (the peer gave up, or we are out of fds for a moment): keep accepting.
                try { await Task.Delay(TimeSpan.FromMilliseconds(10), stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            catch (SocketException ex)
            {
                throw new StencilException(ErrorKind.Unavailable, $"accepting on ttrpc socket {what} failed: {ex.Message}", ex);
            }
            if (!IsPeerAllowed(peer))
            {
                Interlocked.Increment(ref _rejectedPeers);
                peer.Dispose();
                continue;
            }
            connections.RemoveAll(static t => t.IsCompleted);
            connections.Add(ServeConnectionAsync(new NetworkStream(peer, ownsSocket: true), stop));
        }
    }

    /// <summary>Stops every listener and connection and waits for them. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        Task[] running;
        lock (_lock)
            running = [.. _running];
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>The handler for service/method, or null with the Unimplemented status to answer.</summary>
    internal MethodHandler? Lookup(string service, string method, out Status? unknown)
    {
        if (!_services.TryGetValue(service, out var methods))
        {
            unknown = StatusMapping.ToStatus(RpcCode.Unimplemented, $"unknown service {service}");
            return null;
        }
        if (!methods.TryGetValue(method, out var handler))
        {
            unknown = StatusMapping.ToStatus(RpcCode.Unimplemented, $"unknown method {service}.{method}");
            return null;
        }
        unknown = null;
        return handler;
    }

    private bool IsPeerAllowed(Socket peer)
    {
        try
        {
            return PeerCredentials.Read(peer).Uid == RequiredPeerUid;
        }
        catch (SocketException)
        {
            return false; // the peer is already gone, or this is not a unix socket
        }
    }

    private static async Task<Socket> BindAsync(string path, CancellationToken cancellationToken)
    {
        var endpoint = new UnixDomainSocketEndPoint(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            try
            {
                listener.Bind(endpoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                if (await IsServedAsync(endpoint, cancellationToken).ConfigureAwait(false))
                    throw new StencilException(ErrorKind.AlreadyExists, $"ttrpc socket {path} is already being served");
                // Refused: a socket file left by a server that is gone. containerd's shims replace it too.
                File.Delete(path);
                listener.Bind(endpoint);
            }
            listener.Listen(512);
            return listener;
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new StencilException(ErrorKind.Unavailable, $"cannot listen on ttrpc socket {path}: {ex.Message}", ex);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private static async Task<bool> IsServedAsync(UnixDomainSocketEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    private static void TryDeleteSocketFile(string path)
    {
        // .NET unlinks the path of a listener it bound when the socket is disposed; this covers the
        // runtimes and paths where it does not.
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover socket file is replaced by the next ListenAsync.
        }
    }
}
