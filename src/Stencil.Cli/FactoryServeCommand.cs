using System.Runtime.InteropServices;
using Stencil.Containerd;
using Stencil.Factory;
using Stencil.Factory.Daemon;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;

namespace Stencil.Cli;

/// <summary>`stencil factory serve` (the node's factory daemon) and `stencil factory metrics`.</summary>
internal static class FactoryServeCommand
{
    public static async Task<int> ServeAsync(LoadedConfig config, int? poolSize, ILog log, CancellationToken cancellationToken)
    {
        var c = config.Config;
        var options = FactoryOptionsFromConfig.Create(c);
        if (poolSize is { } n)
            options = options with { PoolSize = n };
        if (options.PoolSize <= 0)
            throw StencilException.InvalidArgument($"pool_size is 0 in {Cli.Source(config)}: the daemon has nothing to keep (set [factory] pool_size or pass --pool-size)");
        // Clones handed out by the daemon live in their own folder: a shim's in-process pool (tests) never shares it.
        options = options with { PoolDirectory = Path.Combine(c.Runtime.StateDir, "factory-pool") };

        // systemd stops a service with SIGTERM: stop as on Ctrl-C.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        var factory = new VmFactory(options, log);
        var daemonOptions = new FactoryDaemonOptions
        {
            SocketPath = c.Factory.DaemonSocket,
            MetricsSocketPath = FactoryDaemonOptions.DefaultMetricsSocket(c.Factory.DaemonSocket),
        };
        FactoryDaemon daemon;
        try
        {
            daemon = await FactoryDaemon.StartAsync(factory, daemonOptions, log, stop.Token).ConfigureAwait(false);
        }
        catch
        {
            await factory.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await using (daemon.ConfigureAwait(false))
        {
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            log.Info("factory daemon stopping: discarding the ready clones (clones handed over keep running)");
        }
        return 0;
    }

    /// <summary>GET /metrics from the daemon's metrics socket, printed as is.</summary>
    public static async Task<int> MetricsAsync(LoadedConfig config, TextWriter stdout, CancellationToken cancellationToken)
    {
        var path = FactoryDaemonOptions.DefaultMetricsSocket(config.Config.Factory.DaemonSocket);
        if (!File.Exists(path))
            throw StencilException.Unavailable($"no factory daemon is running: its metrics socket {path} does not exist "
                + "(start one with `stencil factory serve`, or `systemctl start stencil-factory`)");
        using var handler = UnixSocketChannel.CreateHandler(path);
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var text = await http.GetStringAsync(new Uri("http://localhost/metrics"), cancellationToken).ConfigureAwait(false);
            await stdout.WriteAsync(text).ConfigureAwait(false);
            return 0;
        }
        catch (HttpRequestException ex)
        {
            // The socket's own error says more than HttpClient's (which names the placeholder host, localhost:80).
            var reason = ex.InnerException is System.Net.Sockets.SocketException socket ? socket.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.ConnectionRefused => "nothing listens on it (a daemon that exited left it behind)",
                _ => socket.Message,
            } : ex.Message;
            throw StencilException.Unavailable($"no factory daemon answered on {path}: {reason}");
        }
    }
}
