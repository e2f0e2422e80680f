using System.Net.Sockets;
using System.Runtime.InteropServices;
using Stencil.Interop;
using Stencil.Runtime;
using Stencil.Runtime.Configuration;
using Stencil.Shim.Flags;
using Stencil.Shim.Logging;
using Stencil.Shim.Start;
using Stencil.Ttrpc;
using Tmds.Linux;

namespace Stencil.Shim.Serve;

/// <summary>
/// The shim daemon of one pod: serves the Task service on the socket `start` bound, forwards the
/// runtime's events, and exits after Shutdown (no containers left) or SIGTERM/SIGINT, in order: stop
/// accepting, close connections, dispose the runtime (which stops the VM), flush the events, remove
/// the socket.
/// </summary>
internal sealed class ShimDaemon
{
    private static readonly TimeSpan s_runtimeDisposeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_eventFlushTimeout = TimeSpan.FromSeconds(3);

    // Long enough for the Shutdown reply to leave before connections are torn down.
    private static readonly TimeSpan s_shutdownReplyGrace = TimeSpan.FromMilliseconds(50);

    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<int> RunAsync(ShimFlags flags, IPodRuntimeFactory factory) => new ShimDaemon().ServeAsync(flags, factory);

    private async Task<int> ServeAsync(ShimFlags flags, IPodRuntimeFactory factory)
    {
        using var ready = new ReadinessPipe(DaemonLauncher.ReadyFd);
        FifoLogWriter? logWriter = null;
        IPodRuntime? runtime = null;
        ShimLog log;
        Socket listener;
        try
        {
            if (flags.Bundle.Length == 0 || flags.Socket.Length == 0)
                throw StencilException.InvalidArgument("serve needs -bundle and -socket (it is started by `start`, not by hand)");
            logWriter = FifoLogWriter.TryOpen(Path.Combine(flags.Bundle, BundleFiles.Log));
            logWriter?.RedirectStandardError();
            var config = flags.Config.Length == 0 ? StencilConfig.Defaults : ConfigLoader.ReadFile(flags.Config);
            var debug = flags.Debug || config.Runtime.EnableDebug;
            log = new ShimLog(logWriter is null ? _ => { } : logWriter.WriteLine, debug ? LogLevel.Debug : LogLevel.Info,
                [ShimLog.Field("id", flags.Id), ShimLog.Field("namespace", flags.Namespace)]);
            var podId = BundleFiles.PodIdOrOwn(flags.Bundle, flags.Id);
            var context = new PodRuntimeContext(flags.Namespace, podId, flags.Id, flags.Bundle, flags.Address,
                Environment.GetEnvironmentVariable("TTRPC_ADDRESS") ?? "", config, new StatePaths(config.Runtime.StateDir), log,
                DaemonLauncher.ShimStartedAt());
            // posix_spawn's dup2 cleared close-on-exec; set it again so that processes the runtime
            // starts (QEMU) do not hold the listener, which would make a dead daemon look alive.
            var listenerHandle = new SafeSocketHandle(DaemonLauncher.ListenerFd, ownsHandle: true);
            Libc.Fcntl(listenerHandle, LibC.F_SETFD, LibC.FD_CLOEXEC);
            listener = new Socket(listenerHandle);
            runtime = factory.Create(context);
        }
        catch (Exception ex)
        {
            ready.Fail(ex is StencilException ? ex.Message : ex.ToString());
            if (runtime is not null)
                await runtime.DisposeAsync().ConfigureAwait(false);
            logWriter?.Dispose();
            return 1;
        }

        var server = new TtrpcServer();
        new TaskService(runtime, log, RequestStopAfterReply).Register(server);
        // containerd 2.x's sandbox API (`sandboxer = "shim"`), for a runtime that can be the pod's sandbox itself.
        if (runtime is IPodSandboxRuntime sandboxRuntime)
            new SandboxService(sandboxRuntime, log, RequestStopAfterReply).Register(server);
        var publisher = new EventPublisher(Environment.GetEnvironmentVariable("TTRPC_ADDRESS"), flags.Namespace, log);
        using var stopPump = new CancellationTokenSource();
        var pump = publisher.PumpAsync(runtime.Events, stopPump.Token);
        using var stopTrim = new CancellationTokenSource();
        var trim = IdleHeapTrim.RunAsync(stopTrim.Token);
        using var stopAccepting = new CancellationTokenSource();
        var accepting = server.ServeListenerAsync(listener, stopAccepting.Token);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        ready.Ready();
        log.Info("shim daemon serving", ShimLog.Field("socket", flags.Socket), ShimLog.Field("pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        await _stopRequested.Task.ConfigureAwait(false);

        log.Info("shim daemon stopping");
        await stopTrim.CancelAsync().ConfigureAwait(false);
        await trim.ConfigureAwait(false);
        // Stop accepting but keep the socket until the runtime is gone: containerd runs `delete` as
        // soon as the connection closes, and `delete` leaves the pod's state alone while the socket
        // still answers, so it does not race the runtime's own cleanup.
        stopAccepting.Cancel();
        await server.DisposeAsync().ConfigureAwait(false); // closes connections, cancels calls still running (Wait)
        await accepting.ConfigureAwait(false);
        try
        {
            await runtime.DisposeAsync().AsTask().WaitAsync(s_runtimeDisposeTimeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            log.Error($"disposing the pod runtime failed: {ex.Message}");
        }
        // The runtime ends its event stream when disposed; a stream that does not end soon is cut.
        try
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await stopPump.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
        }
        await publisher.CompleteAsync(s_eventFlushTimeout).ConfigureAwait(false);
        listener.Dispose();
        ShimSocket.Remove(flags.Socket);
        log.Info("shim daemon exited");
        logWriter?.Dispose();
        return 0;

        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true; // no default termination: shut down in order instead
            log.Info($"received {signal.Signal}, shutting down");
            _stopRequested.TrySetResult();
        }
    }

    private void RequestStopAfterReply() => _ = StopSoonAsync();

    private async Task StopSoonAsync()
    {
        await Task.Delay(s_shutdownReplyGrace).ConfigureAwait(false);
        _stopRequested.TrySetResult();
    }
}
