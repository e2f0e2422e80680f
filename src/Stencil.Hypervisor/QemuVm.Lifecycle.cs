using System.Text.Json;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// Start, pause, resume, queries, shutdown and kill.
public sealed partial class QemuVm
{
    private static readonly TimeSpan s_qmpConnectRetry = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Starts QEMU and connects QMP. A cold boot or template is then Running; a clone is Incoming
    /// (waiting for <see cref="RestoreAsync"/>). If QEMU exits early, the error carries its output.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VmState target;
            lock (_gate)
                target = VmLifecycle.Next(_state, Instance.Role == VmRole.Clone ? VmOperation.StartIncoming : VmOperation.Start, Name);
            CheckMemoryFile();

            var (file, arguments) = QemuCommandLine.Launch(_options.QemuBinary, CommandLine, Description.Capabilities);
            var process = QemuProcess.Start(file, arguments, _options.OutputTailBytes, _options.QemuBinary);
            bool stoppedMeanwhile;
            lock (_gate)
            {
                // KillAsync does not wait for the operation lock: it may have run before QEMU existed.
                stoppedMeanwhile = _stopRequested;
                if (!stoppedMeanwhile)
                    _process = process;
            }
            if (stoppedMeanwhile)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                throw StencilException.FailedPrecondition($"vm {Name} was stopped while starting");
            }
            _ = WatchExitAsync(process);
            try
            {
                _qmp = await ConnectQmpAsync(process, cancellationToken).ConfigureAwait(false);
                Instance.Paths.RestrictToOwner();
                _eventPump = PumpEventsAsync(_qmp);
                WatchConsoleLog();
                var status = await QueryStatusCoreAsync(cancellationToken).ConfigureAwait(false);
                var expected = target == VmState.Incoming ? "inmigrate" : "running";
                if (status != expected)
                    throw StencilException.Internal($"vm {Name} started with status \"{status}\", expected \"{expected}\"");
                Move(VmState.Created, target);
            }
            catch (Exception ex)
            {
                var explained = ex is StencilException { Kind: ErrorKind.Unavailable } se
                    ? await ExplainAsync($"starting vm {Name}", se).ConfigureAwait(false)
                    : ex;
                await StopProcessAsync(graceful: false).ConfigureAwait(false);
                if (ReferenceEquals(explained, ex))
                    throw;
                throw explained;
            }
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// A template writes guest RAM into a new file that clones will map: reusing a file would keep
    /// stale pages, and rewriting one that running clones map corrupts them. A clone maps the
    /// template's file: without it QEMU would silently create an empty one and the guest would wake
    /// up to zeroed memory.
    /// </summary>
    private void CheckMemoryFile()
    {
        var file = Instance.MemoryFile;
        if (Instance.Role == VmRole.Template && file is not null && Path.Exists(file))
        {
            throw StencilException.AlreadyExists(
                $"template memory file {file} already exists: a template needs a fresh file (unlink the old one; running clones keep its inode)");
        }
        if (Instance.Role == VmRole.Clone && file is not null && !File.Exists(file))
            throw StencilException.NotFound($"template memory file {file} does not exist: a clone maps the memory its template saved");
    }

    /// <summary>QMP stop: Running -> Paused.</summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Pause, $"pausing vm {Name}", _options.CommandTimeout, async ct =>
        {
            await Qmp.ExecuteAsync(QmpCommands.Stop(), ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>QMP cont: Paused -> Running.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Resume, $"resuming vm {Name}", _options.CommandTimeout, async ct =>
        {
            await Qmp.ExecuteAsync(QmpCommands.Cont(), ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>QEMU's run status ("running", "paused", "inmigrate", "postmigrate", ...).</summary>
    public Task<string> QueryStatusAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Query, $"querying vm {Name}", _options.CommandTimeout, QueryStatusCoreAsync, cancellationToken);

    /// <summary>vCPUs QEMU currently has (boot plus hot-added).</summary>
    public Task<int> QueryCpuCountAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Query, $"querying vm {Name}", _options.CommandTimeout, async ct =>
        {
            var cpus = await Qmp.ExecuteAsync(QmpCommands.QueryCpusFast(), ct).ConfigureAwait(false);
            return cpus.ValueKind == JsonValueKind.Array ? cpus.GetArrayLength() : 0;
        }, cancellationToken);

    /// <summary>QMP quit, then SIGKILL if QEMU has not exited within the shutdown timeout. Any state but Stopped.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (_state == VmState.Stopped && _process is { WasKilled: false } p && UnexpectedExit())
                    throw UnexpectedExitError(p, $"cannot shut down vm {Name}");
                VmLifecycle.Next(_state, VmOperation.Shutdown, Name);
            }
            await StopProcessAsync(graceful: true).ConfigureAwait(false);
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>SIGKILL and reap; allowed in every state, never waits behind a running operation.</summary>
    public async Task KillAsync()
    {
        await StopProcessAsync(graceful: false).ConfigureAwait(false);
    }

    private async Task<QmpClient> ConnectQmpAsync(QemuProcess process, CancellationToken cancellationToken)
    {
        var path = Instance.Paths.QmpSocket;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.StartTimeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                    throw StencilException.Unavailable($"qemu exited before opening its QMP socket {path}");
                var socket = await QmpClient.TryConnectSocketAsync(path, deadline.Token).ConfigureAwait(false);
                if (socket is not null)
                    return await QmpClient.StartAsync(socket, path, QmpFraming.DefaultMaxLineBytes, deadline.Token).ConfigureAwait(false);
                await Task.WhenAny(Task.Delay(s_qmpConnectRetry, deadline.Token), process.Exited).ConfigureAwait(false);
                deadline.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new StencilException(ErrorKind.DeadlineExceeded,
                $"starting vm {Name}: qemu did not answer on its QMP socket {path} within {Seconds(_options.StartTimeout)}; its output: {Tail(process)}");
        }
    }

    private async Task StopProcessAsync(bool graceful)
    {
        QemuProcess? process;
        QmpClient? qmp;
        lock (_gate)
        {
            _stopRequested = true;
            process = _process;
            qmp = _qmp;
            if (process is null)
                _state = VmState.Stopped;
        }

        if (process is not null)
        {
            if (graceful && !process.HasExited && qmp is not null)
            {
                // QEMU may close the socket before its reply arrives: that is success too.
                await BestEffortAsync(() => qmp.ExecuteAsync(QmpCommands.Quit(), CancellationToken.None)).ConfigureAwait(false);
                await Task.WhenAny(process.Exited, Task.Delay(_options.ShutdownTimeout)).ConfigureAwait(false);
            }
            await process.DisposeAsync().ConfigureAwait(false);
        }
        if (qmp is not null)
            await qmp.DisposeAsync().ConfigureAwait(false);
        ReleaseAfterExit();
    }

    private async Task<string> QueryStatusCoreAsync(CancellationToken cancellationToken)
    {
        var status = await Qmp.ExecuteAsync(QmpCommands.QueryStatus(), cancellationToken).ConfigureAwait(false);
        return status.ValueKind == JsonValueKind.Object && status.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()!
            : throw StencilException.Internal($"vm {Name}: query-status returned {status.GetRawText()}");
    }
}
