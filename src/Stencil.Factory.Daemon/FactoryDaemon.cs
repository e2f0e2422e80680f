using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stencil.Interop;

namespace Stencil.Factory.Daemon;

/// <summary>
/// `stencil factory serve`: one per node. Keeps <see cref="VmFactoryOptions.PoolSize"/> paused
/// clones of the current template and hands one to any shim that asks (gRPC on a 0600 unix socket;
/// peers are checked by uid). On start it kills and removes the clones its previous run left (never
/// those it handed over: they are their shims'). Every few seconds it recomputes the template
/// fingerprint; when the configuration or guest image changed, the ready clones are discarded and
/// the pool refills from the new template (built on first need). A shim also names its own
/// fingerprint in each request, and only a clone of that template is ever handed to it.
/// </summary>
public sealed class FactoryDaemon : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DaemonState _state;
    private readonly FactoryDaemonOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private Task _watcher = Task.CompletedTask;
    private double? _templateBuildSeconds;
    private int _disposed;

    private FactoryDaemon(WebApplication app, DaemonState state, FactoryDaemonOptions options)
    {
        _app = app;
        _state = state;
        _options = options;
    }

    /// <summary>The metrics as Prometheus text (what GET /metrics answers).</summary>
    public string MetricsText()
    {
        var pool = _state.Factory.Pool;
        return FactoryMetrics.Render(_state.Metrics.Take(pool?.Size ?? 0, pool?.ReadyCount ?? 0, _templateBuildSeconds));
    }

    /// <summary>Binds the sockets, cleans what an earlier run left, starts the pool and the fingerprint watcher.</summary>
    public static async Task<FactoryDaemon> StartAsync(VmFactory factory, FactoryDaemonOptions options, ILog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (factory.Options.PoolSize <= 0)
            throw StencilException.InvalidArgument("the factory daemon's pool size is 0: set [factory] pool_size or pass --pool-size");
        if (!factory.Options.EnableTemplate)
            throw StencilException.FailedPrecondition("the factory daemon serves template clones, but templates are off ([factory] enable_template = false)");
        await ClaimSocketAsync(options.SocketPath, cancellationToken).ConfigureAwait(false);
        if (options.MetricsSocketPath is { } metricsPath)
            await ClaimSocketAsync(metricsPath, cancellationToken).ConfigureAwait(false);

        var removed = factory.RemovePoolLeftovers();
        if (removed > 0)
            log.Info($"removed {removed} pooled clone(s) an earlier run left");

        var state = new DaemonState(factory, log);
        var ownUid = Libc.GetEffectiveUserId();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(state);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(options.SocketPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(next => connection => CheckPeer(connection, next, ownUid, options, log));
            });
            if (options.MetricsSocketPath is { } metrics)
            {
                kestrel.ListenUnixSocket(metrics, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(next => connection => CheckPeer(connection, next, ownUid, options, log));
                });
            }
        });
        var app = builder.Build();
        var daemon = new FactoryDaemon(app, state, options);
        app.MapGrpcService<FactoryGrpcService>();
        app.MapGet("/metrics", (RequestDelegate)(async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(daemon.MetricsText(), context.RequestAborted).ConfigureAwait(false);
        }));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            // Kestrel binds with the process umask; the peer check covers the moment before this.
            OwnerOnly(options.SocketPath);
            if (options.MetricsSocketPath is { } m)
                OwnerOnly(m);
            await daemon.CheckFingerprintAsync(cancellationToken).ConfigureAwait(false);
            factory.StartPool();
            await WarmUpAsync(options.SocketPath, log).ConfigureAwait(false);
            daemon._watcher = daemon.WatchFingerprintAsync();
            log.Info($"factory daemon serving on {options.SocketPath}" +
                $"{(options.MetricsSocketPath is null ? "" : $", metrics on {options.MetricsSocketPath}")}; pool of {factory.Options.PoolSize}, template {state.CurrentFingerprint}");
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One Status call to ourselves: the first request through Kestrel, HTTP/2 and gRPC's routing
    /// initialises them (tens of ms), which would otherwise land on the first shim's hand-over.
    /// </summary>
    private static async Task WarmUpAsync(string socketPath, ILog log)
    {
        try
        {
            using var channel = Containerd.UnixSocketChannel.Create(socketPath);
            await new Protocols.Factory.Factory.FactoryClient(channel).StatusAsync(new Protocols.Factory.StatusRequest(),
                deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync.ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException ex)
        {
            log.Warning($"warming up the factory daemon's gRPC service: {ex.Status.Detail}");
        }
    }

    /// <summary>Completes when the pool holds <paramref name="count"/> ready clones (tests, benchmarks, the demo).</summary>
    public Task WaitForReadyAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (_state.Factory.Pool ?? throw StencilException.FailedPrecondition("the pool is not started")).WaitForReadyAsync(count, timeout, cancellationToken);

    /// <summary>
    /// Stops serving, discards the ready clones (their QEMUs are killed, their folders removed) and
    /// removes the sockets. Clones already handed over keep running: they are their shims'.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watcher.ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _state.Factory.DisposeAsync().ConfigureAwait(false);
        TryDelete(_options.SocketPath);
        if (_options.MetricsSocketPath is { } metrics)
            TryDelete(metrics);
        _stop.Dispose();
    }

    private async Task WatchFingerprintAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.FingerprintCheckInterval, token).ConfigureAwait(false);
                await CheckFingerprintAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
            {
                _state.Log.Warning($"checking the template fingerprint: {ex.Message}");
            }
        }
    }

    /// <summary>Recomputes the fingerprint; when it changed, discards the clones of the old template.</summary>
    private async Task CheckFingerprintAsync(CancellationToken cancellationToken)
    {
        var fingerprint = await _state.Factory.GetFingerprintAsync(cancellationToken).ConfigureAwait(false);
        var previous = _state.CurrentFingerprint;
        _state.CurrentFingerprint = fingerprint;
        if (previous is not null && previous != fingerprint)
        {
            _state.Log.Info($"template fingerprint changed ({previous} -> {fingerprint}): draining the pool");
            _state.Metrics.StaleDiscarded(await _state.Factory.DiscardStaleClonesAsync(fingerprint).ConfigureAwait(false));
            _templateBuildSeconds = null;
        }
        // The build time only until the current template has one (it is built once the pool fills).
        if (_templateBuildSeconds is null)
        {
            var status = await _state.Factory.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            _templateBuildSeconds = status.Templates.FirstOrDefault(t => t.IsCurrent)?.BuildTime.TotalSeconds;
        }
    }

    private static async Task CheckPeer(Microsoft.AspNetCore.Connections.ConnectionContext connection, Microsoft.AspNetCore.Connections.ConnectionDelegate next,
        uint ownUid, FactoryDaemonOptions options, ILog log)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var peer = socket is null ? null : PeerCredentials.Read(socket);
        if (peer is not { } p || !PeerCredentials.Allowed(p.Uid, ownUid, options.AllowedUids))
        {
            log.Warning($"refused a connection from {(peer is { } q ? $"pid {q.Pid} uid {q.Uid}" : "a peer whose credentials could not be read")}: only root and uid {ownUid} may connect");
            connection.Abort();
            return;
        }
        await next(connection).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the socket path ours: its folder exists (0700 when made here); a socket file left by a
    /// dead daemon is removed; a live daemon answering there is an error (two daemons would both
    /// kill each other's clones at start).
    /// </summary>
    private static async Task ClaimSocketAsync(string path, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path) ?? "/";
        if (!Directory.Exists(directory) && !OperatingSystem.IsWindows())
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!Path.Exists(path))
            return;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }
        throw StencilException.AlreadyExists($"another factory daemon is serving on {path}");
    }

    private static void OwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
