using System.Net;
using System.Net.Sockets;
using Stencil.Agent.Logging;

namespace Stencil.Agent.PortForward;

/// <summary>
/// The guest's end of CRI port forwarding: TCP connections to 127.0.0.1:port in the guest's root
/// network namespace, which is the pod's network (containers get no network namespace of their own),
/// so this reaches what a container listens on, as containerd's dial in the pod's namespace does with
/// runc. Connections are kept by id until the host closes them or the sandbox is destroyed.
/// </summary>
internal sealed class PortForwards
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    private readonly Dictionary<ulong, PortForwardConnection> _connections = [];
    private ulong _lastId;

    internal int Count
    {
        get
        {
            lock (_lock)
                return _connections.Count;
        }
    }

    internal async Task<ulong> OpenAsync(uint port, CancellationToken cancellationToken)
    {
        if (port is 0 or > ushort.MaxValue)
            throw StencilException.InvalidArgument($"port {port} is out of range (1-65535)");
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_connectTimeout);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, (int)port), timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var reason = ex.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : ex.Message;
            throw StencilException.Unavailable($"{reason} to 127.0.0.1:{port} in the pod");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new StencilException(ErrorKind.DeadlineExceeded, $"connecting to 127.0.0.1:{port} in the pod took more than {s_connectTimeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        PortForwardConnection connection;
        lock (_lock)
        {
            connection = new PortForwardConnection(++_lastId, (int)port, socket);
            _connections.Add(connection.Id, connection);
        }
        AgentLog.Debug($"port forward stream {connection.Id}: connected to 127.0.0.1:{port}");
        return connection.Id;
    }

    internal PortForwardConnection Get(ulong id)
    {
        lock (_lock)
        {
            return _connections.TryGetValue(id, out var c)
                ? c
                : throw StencilException.NotFound($"port forward stream {id} not found");
        }
    }

    /// <summary>Closes the connection; a read still pending on it ends with end of stream.</summary>
    internal void Close(ulong id)
    {
        PortForwardConnection? connection;
        lock (_lock)
        {
            if (!_connections.Remove(id, out connection))
                throw StencilException.NotFound($"port forward stream {id} not found");
        }
        connection.Dispose();
        AgentLog.Debug($"port forward stream {id} (127.0.0.1:{connection.Port}) closed");
    }

    /// <summary>With the sandbox: every connection goes.</summary>
    internal void CloseAll()
    {
        List<PortForwardConnection> all;
        lock (_lock)
        {
            all = [.. _connections.Values];
            _connections.Clear();
        }
        foreach (var c in all)
            c.Dispose();
        if (all.Count > 0)
            AgentLog.Debug($"{all.Count} port forward stream(s) closed with the sandbox");
    }
}
