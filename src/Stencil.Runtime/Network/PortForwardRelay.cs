using System.Net;
using System.Net.Sockets;
using Stencil.Agent.Client;
using Stencil.Runtime.Network.Interop;

namespace Stencil.Runtime.Network;

/// <summary>
/// Makes containerd's CRI PortForward reach a VM pod. containerd 1.6 enters the pod's network
/// namespace on the host and dials localhost:PORT there; a VM pod's servers listen in the guest. The
/// relay listens on 127.0.0.1:(ephemeral) inside that namespace, an nftables rule there
/// (<see cref="PortForwardRuleset"/>) redirects every TCP connection to 127.0.0.1 to it, and each
/// accepted connection is joined to a connection the agent opens to the same port in the guest
/// (SO_ORIGINAL_DST says which). Bytes flow both ways until both sides have ended; a half-close
/// travels as one (an HTTP client's shutdown(SHUT_WR) reaches the server as end of file). A port
/// with no listener in the guest resets the host connection, so containerd reports an error instead
/// of an empty answer. Disposing closes the listener and every connection and removes the rule.
/// </summary>
public sealed class PortForwardRelay : IAsyncDisposable
{
    private const int Backlog = 64;
    private const int CopyBuffer = 64 * 1024;

    private readonly Socket _listener;
    private readonly IGuestPortDialer _dialer;
    private readonly string _netns;
    private readonly string _nsenter;
    private readonly string _nft;
    private readonly ICommandRunner _runner;
    private readonly ILog _log;
    private readonly string _what;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lock = new();
    private readonly HashSet<Task> _connections = [];
    private readonly HashSet<Socket> _sockets = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private PortForwardRelay(Socket listener, IGuestPortDialer dialer, string netns, string nsenter, string nft, ICommandRunner runner, ILog log, string what)
    {
        _listener = listener;
        _dialer = dialer;
        _netns = netns;
        _nsenter = nsenter;
        _nft = nft;
        _runner = runner;
        _log = log;
        _what = what;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>The relay's port on 127.0.0.1 in the pod's namespace.</summary>
    public int Port { get; }

    /// <summary>Connections being relayed now.</summary>
    public int ActiveConnections
    {
        get
        {
            lock (_lock)
                return _connections.Count;
        }
    }

    /// <summary>nft's path; a StencilException (FailedPrecondition) naming the Debian package when it is missing.</summary>
    public static string FindNft() => NetworkTools.FindExecutable("nft", "nftables");

    /// <summary>Starts relaying port forwards in <paramref name="networkNamespacePath"/> to the agent's guest.</summary>
    /// <param name="what">For log lines, e.g. "pod abc".</param>
    public static Task<PortForwardRelay> StartAsync(string networkNamespacePath, IAgentClient agent, string nft, ILog log, string what,
        CancellationToken cancellationToken = default) =>
        StartAsync(networkNamespacePath, new AgentGuestPortDialer(agent), NetworkTools.FindExecutable("nsenter", "util-linux"), nft,
            ProcessCommandRunner.Instance, log, what, cancellationToken);

    internal static async Task<PortForwardRelay> StartAsync(string networkNamespacePath, IGuestPortDialer dialer, string nsenter, string nft,
        ICommandRunner runner, ILog log, string what, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(networkNamespacePath);
        var listener = await NamespaceListener.ListenOnLoopbackAsync(networkNamespacePath, Backlog).ConfigureAwait(false);
        var relay = new PortForwardRelay(listener, dialer, networkNamespacePath, nsenter, nft, runner, log, what);
        try
        {
            var load = PortForwardRuleset.Load(nsenter, nft, networkNamespacePath);
            var output = await runner.RunAsync(load.FileName, load.Arguments, PortForwardRuleset.Build(relay.Port), cancellationToken).ConfigureAwait(false);
            output.EnsureSuccess($"loading the port-forward rule into {networkNamespacePath}");
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        relay._acceptLoop = Task.Run(relay.AcceptLoopAsync, CancellationToken.None);
        log.Info($"{what}: port forwards to 127.0.0.1 in {networkNamespacePath} are relayed to the guest (relay on 127.0.0.1:{relay.Port})");
        return relay;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || (ex is SocketException && _stop.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException ex)
            {
                // ECONNABORTED and the like concern one connection, not the listener.
                _log.Debug($"{_what}: port-forward accept: {ex.Message}");
                continue;
            }
            lock (_lock)
            {
                if (_stop.IsCancellationRequested)
                {
                    client.Dispose();
                    return;
                }
                _sockets.Add(client);
                var task = Task.Run(() => RelayAsync(client));
                _connections.Add(task);
                _ = task.ContinueWith(t =>
                {
                    lock (_lock)
                    {
                        _connections.Remove(t);
                        _sockets.Remove(client);
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var _ = client;
        client.NoDelay = true;
        int port;
        try
        {
            port = OriginalDestination.Of(client).Port;
        }
        catch (StencilException ex)
        {
            _log.Warning($"{_what}: port forward: {ex.Message}");
            return;
        }
        if (port == Port)
        {
            // Not redirected: someone dialed the relay itself. There is no port to forward to.
            _log.Debug($"{_what}: port forward: a connection to the relay's own port {Port} is refused");
            Reset(client);
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        IGuestConnection guest;
        try
        {
            guest = await _dialer.DialAsync(port, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
                _log.Warning($"{_what}: port forward to port {port}: {ex.Message}");
            // A reset, not a clean close: containerd then reports an error to the client instead of an empty answer.
            Reset(client);
            return;
        }

        await using (guest.ConfigureAwait(false))
        {
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var toGuest = PumpToGuestAsync(client, guest, port, abort);
            var fromGuest = PumpFromGuestAsync(guest, client, port, abort);
            await Task.WhenAll(toGuest, fromGuest).ConfigureAwait(false);
            var (sent, received) = (await toGuest.ConfigureAwait(false), await fromGuest.ConfigureAwait(false));
            _log.Debug($"{_what}: port forward to port {port} done in {clock.ElapsedMilliseconds} ms ({sent} bytes in, {received} bytes out)");
        }
    }

    /// <summary>Host client -> guest server, then a half-close. A failure aborts the whole connection.</summary>
    private async Task<long> PumpToGuestAsync(Socket client, IGuestConnection guest, int port, CancellationTokenSource abort)
    {
        var buffer = new byte[CopyBuffer];
        long total = 0;
        try
        {
            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, abort.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    await guest.CloseWriteAsync(abort.Token).ConfigureAwait(false);
                    return total;
                }
                await guest.WriteAsync(buffer.AsMemory(0, n), abort.Token).ConfigureAwait(false);
                total += n;
            }
        }
        catch (Exception ex) when (ex is SocketException or StencilException or OperationCanceledException or ObjectDisposedException)
        {
            if (!abort.IsCancellationRequested)
                _log.Debug($"{_what}: port forward to port {port}: host to guest ended: {ex.Message}");
            Abort(client, abort);
            return total;
        }
    }

    /// <summary>Guest server -> host client, then a half-close. A failure aborts the whole connection.</summary>
    private async Task<long> PumpFromGuestAsync(IGuestConnection guest, Socket client, int port, CancellationTokenSource abort)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var data = await guest.ReadAsync(abort.Token).ConfigureAwait(false);
                if (data.IsEmpty)
                {
                    client.Shutdown(SocketShutdown.Send);
                    return total;
                }
                for (var offset = 0; offset < data.Length;)
                    offset += await client.SendAsync(data[offset..], SocketFlags.None, abort.Token).ConfigureAwait(false);
                total += data.Length;
            }
        }
        catch (Exception ex) when (ex is SocketException or StencilException or OperationCanceledException or ObjectDisposedException)
        {
            if (!abort.IsCancellationRequested)
                _log.Debug($"{_what}: port forward to port {port}: guest to host ended: {ex.Message}");
            Abort(client, abort);
            return total;
        }
    }

    /// <summary>Ends both directions: the socket is reset (its pending receive ends), the guest stream is closed by the caller's dispose.</summary>
    private static void Abort(Socket client, CancellationTokenSource abort)
    {
        try
        {
            abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        Reset(client);
    }

    /// <summary>Closes with an RST (SO_LINGER 0), so the peer reads an error rather than end of file.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Task[] connections;
        lock (_lock)
        {
            _stop.Cancel();
            connections = [.. _connections];
            foreach (var s in _sockets)
                Reset(s);
        }
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        // Each connection closes its guest stream as it ends (bounded by the agent call's own timeout).
        await Task.WhenAny(Task.WhenAll(connections), Task.Delay(TimeSpan.FromSeconds(6))).ConfigureAwait(false);
        if (File.Exists(_netns))
        {
            var delete = PortForwardRuleset.Delete(_nsenter, _nft, _netns);
            try
            {
                var output = await _runner.RunAsync(delete.FileName, delete.Arguments, CancellationToken.None).ConfigureAwait(false);
                if (output.ExitCode != 0)
                    _log.Debug($"{_what}: removing the port-forward rule: `{output.CommandLine}` exited {output.ExitCode}: {output.Stderr.Trim()}");
            }
            catch (StencilException ex)
            {
                _log.Debug($"{_what}: removing the port-forward rule: {ex.Message}");
            }
        }
        _stop.Dispose();
        _log.Info($"{_what}: port-forward relay on 127.0.0.1:{Port} in {_netns} closed");
    }
}
