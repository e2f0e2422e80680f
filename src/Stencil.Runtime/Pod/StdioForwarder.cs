using Microsoft.Win32.SafeHandles;
using Stencil.Agent.Client;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Moves one process's stdio between containerd and the agent: stdout and stderr from the agent
/// into what containerd named for them until EOF, stdin from its FIFO to the agent until the writer
/// closes it (or containerd's CloseIO). Output goes to a FIFO containerd reads with its own copy loop
/// (so everything written before <see cref="OutputDone"/> reaches the user before the exit event does),
/// to a file (file:///PATH, appended, created 0600), or to a binary:// logger (<see cref="BinaryLogger"/>).
/// </summary>
internal sealed class StdioForwarder : IAsyncDisposable
{
    private readonly IAgentClient _agent;
    private readonly string _containerId;
    private readonly string? _execId;
    private readonly StdioPaths _paths;
    private readonly ILog _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stdinClosedByContainerd = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _stdin = Task.CompletedTask;
    private readonly SemaphoreSlim _stdinSend = new(1, 1);
    private bool _stdinClosed;

    // An O_PATH handle on the stdin FIFO, taken while its name still exists: the pump opens the FIFO
    // through /proc/self/fd/N, and DisposeAsync can release a pump still blocked in that open by being
    // a writer once, even after containerd has removed the FIFO's name (it does, before our Delete).
    private SafeFileHandle? _stdinPath;
    private string _stdinProcPath = "";

    private ProcessOutputs _prepared = new();

    private StdioForwarder(IAgentClient agent, string containerId, string? execId, StdioPaths paths, ILog log)
    {
        _agent = agent;
        _containerId = containerId;
        _execId = execId;
        _paths = paths;
        _log = log;
    }

    /// <summary>Where stdout and stderr go; refuses (InvalidArgument) a URI the shim cannot serve, before anything runs.</summary>
    internal static (StdioTarget Stdout, StdioTarget Stderr) Targets(StdioPaths paths) =>
        (StdioTarget.Parse(paths.Stdout, "stdout"), paths.Terminal ? StdioTarget.None : StdioTarget.Parse(paths.Stderr, "stderr"));

    /// <summary>
    /// Opens what stdout and stderr go to when that is not a FIFO, before the process runs, so that a
    /// file that cannot be opened or a logger that cannot start fails the create or exec with the
    /// reason: file:///PATH is created 0600 (its folder 0700) and opened for appending, a binary://
    /// logger is started and waited for (<see cref="BinaryLogger"/>). Hand the result to <see cref="Start"/>.
    /// </summary>
    internal static async Task<ProcessOutputs> PrepareAsync(StdioPaths paths, string containerNamespace, string containerId, string? execId,
        ILog log, CancellationToken cancellationToken)
    {
        var (stdout, stderr) = Targets(paths);
        var what = execId is null or "" ? $"container {containerId}" : $"exec {execId} of container {containerId}";
        var outputs = new ProcessOutputs();
        try
        {
            outputs.StdoutFile = stdout.Kind == StdioTargetKind.File ? OpenAppend(stdout.Path, what) : null;
            outputs.StderrFile = stderr.Kind == StdioTargetKind.File ? OpenAppend(stderr.Path, what) : null;
            var logger = stdout.Kind == StdioTargetKind.Binary ? stdout : stderr.Kind == StdioTargetKind.Binary ? stderr : null;
            if (logger is not null)
                outputs.Logger = await BinaryLogger.StartAsync(logger, containerNamespace, containerId, what, log, cancellationToken).ConfigureAwait(false);
            return outputs;
        }
        catch
        {
            await outputs.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static SafeFileHandle OpenAppend(string path, string what)
    {
        if (OperatingSystem.IsLinux() && !Directory.Exists(Path.GetDirectoryName(path)))
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // O_APPEND: stdout and stderr each append whole writes to the one file.
        var file = Libc.Open(path, LibC.O_WRONLY | LibC.O_APPEND | LibC.O_CREAT | LibC.O_CLOEXEC | LibC.O_NOCTTY, 0x180);
        if (file.IsInvalid)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            file.Dispose();
            throw Errno.Exception(errno, $"{what}: opening the file:// log {path}");
        }
        return file;
    }

    /// <summary>Completes when stdout and stderr have both reached EOF (or forwarding was stopped).</summary>
    public Task OutputDone { get; private set; } = Task.CompletedTask;

    /// <param name="prepared">From <see cref="PrepareAsync"/> (needed for file:// and binary://); the forwarder owns it from here on.</param>
    public static StdioForwarder Start(IAgentClient agent, string containerId, string? execId, StdioPaths paths, ILog log, ProcessOutputs? prepared = null)
    {
        var f = new StdioForwarder(agent, containerId, execId, paths, log) { _prepared = prepared ?? new ProcessOutputs() };
        var (stdout, stderr) = Targets(paths);
        var outputs = new List<Task>();
        if (stdout.Kind != StdioTargetKind.None)
            outputs.Add(Task.Run(() => f.PumpOutputAsync(StdioStream.Stdout, stdout)));
        if (stderr.Kind != StdioTargetKind.None)
            outputs.Add(Task.Run(() => f.PumpOutputAsync(StdioStream.Stderr, stderr)));
        f.OutputDone = Task.WhenAll(outputs);
        if (!string.IsNullOrEmpty(paths.Stdin))
        {
            var stdinPath = Libc.Open(paths.Stdin, LibC.O_PATH | LibC.O_CLOEXEC);
            if (stdinPath.IsInvalid)
            {
                stdinPath.Dispose();
                log.Warning($"{f.What}: stdin FIFO {paths.Stdin} cannot be opened; no input will be forwarded");
            }
            else
            {
                f._stdinPath = stdinPath;
                f._stdinProcPath = $"/proc/self/fd/{stdinPath.DangerousGetHandle()}";
                f._stdin = Task.Factory.StartNew(f.PumpStdin, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                _ = f.CloseOnCloseIOAsync();
            }
        }
        return f;
    }

    private string What => _execId is null or "" ? $"container {_containerId}" : $"exec {_execId} of container {_containerId}";

    /// <summary>containerd's CloseIO: no more input; the agent closes the process's stdin.</summary>
    public void CloseStdin() => _stdinClosedByContainerd.TrySetResult();

    private async Task PumpOutputAsync(StdioStream stream, StdioTarget target)
    {
        try
        {
            using var handle = await OpenOutputAsync(stream, target).ConfigureAwait(false);
            await using var output = new FileStream(handle, FileAccess.Write, bufferSize: 0);
            await _agent.CopyOutputAsync(_containerId, _execId, stream, output, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
        {
            // The reader went away (containerd restarted, ctr was killed) or the VM died: the process
            // goes on; its output is lost, as with runc when nobody reads.
            _log.Debug($"{What}: {stream.ToString().ToLowerInvariant()} forwarding ended: {ex.Message}");
        }
    }

    private async Task<SafeFileHandle> OpenOutputAsync(StdioStream stream, StdioTarget target)
    {
        switch (target.Kind)
        {
            case StdioTargetKind.Binary when _prepared.Logger is { } logger:
                return stream == StdioStream.Stdout ? logger.Stdout : logger.Stderr;
            case StdioTargetKind.File when (stream == StdioStream.Stdout ? _prepared.StdoutFile : _prepared.StderrFile) is { } file:
                return file;
            case StdioTargetKind.Fifo:
                // Opening a FIFO for writing blocks until its reader (containerd) has it open; it already has.
                return await Task.Run(() => File.OpenHandle(target.Path, FileMode.Open, FileAccess.Write), _stop.Token).ConfigureAwait(false);
            default:
                throw new IOException($"{target} was not prepared");
        }
    }

    // Runs on a thread of its own: opening a FIFO for reading blocks until a writer comes, and .NET
    // reads a FIFO with a blocking read() even through ReadAsync. On the thread pool (2 threads on a
    // 2-core node) two such pumps starved every other continuation, the event forwarder's among them,
    // until the pool added a thread ~0.5-1 s later: that delayed `ctr task exec`'s exit by as much.
    private void PumpStdin()
    {
        SafeFileHandle? handle = null;
        try
        {
            // Blocks until a writer opens the FIFO; DisposeAsync unblocks it if none ever does.
            handle = File.OpenHandle(_stdinProcPath, FileMode.Open, FileAccess.Read);
            using var input = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            var buffer = new byte[64 * 1024];
            while (!_stop.IsCancellationRequested)
            {
                var n = input.Read(buffer);
                if (n == 0)
                    break;
                if (!SendStdin(buffer.AsMemory(0, n)))
                    return;
            }
            if (!_stop.IsCancellationRequested)
                CloseAgentStdinAsync().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
        {
            _log.Debug($"{What}: stdin forwarding ended: {ex.Message}");
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <summary>Writes one read's worth to the agent unless stdin was closed meanwhile (then: false).</summary>
    private bool SendStdin(ReadOnlyMemory<byte> data)
    {
        _stdinSend.Wait(_stop.Token);
        try
        {
            if (_stdinClosed)
                return false;
            for (var offset = 0; offset < data.Length;)
                offset += _agent.WriteStdinAsync(_containerId, _execId, data[offset..], _stop.Token).GetAwaiter().GetResult();
            return true;
        }
        finally
        {
            _stdinSend.Release();
        }
    }

    /// <summary>
    /// Closes the process's stdin in the agent once, after any write in flight: on EOF from the FIFO, or
    /// on containerd's CloseIO while the pump may still be blocked in read() (the writer kept it open).
    /// </summary>
    private async Task CloseAgentStdinAsync()
    {
        await _stdinSend.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            if (_stdinClosed)
                return;
            _stdinClosed = true;
            await _agent.CloseStdinAsync(_containerId, _execId, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _stdinSend.Release();
        }
    }

    private async Task CloseOnCloseIOAsync()
    {
        try
        {
            if (await Task.WhenAny(_stdinClosedByContainerd.Task, _stdin).ConfigureAwait(false) == _stdin)
                return;
            await CloseAgentStdinAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is StencilException or IOException)
        {
            _log.Debug($"{What}: closing stdin failed: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_stdinPath is not null)
        {
            // A pump still blocked opening the FIFO (no writer ever came) is released by one writer's open;
            // O_NONBLOCK: when nobody is reading any more, that open fails (ENXIO) instead of blocking.
            if (!_stdin.IsCompleted)
            {
                Libc.Open(_stdinProcPath, LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC).Dispose(); // opened, then closed
            }
            // Released (or already done) pumps finish at once; one blocked in read() ends when the
            // writer (ctr) closes, and then does nothing: it is not waited for.
            await Task.WhenAny(_stdin, Task.Delay(TimeSpan.FromMilliseconds(100))).ConfigureAwait(false);
            _stdinPath.Dispose();
            _stdinPath = null;
        }
        await Task.WhenAny(OutputDone, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        await _prepared.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>What <see cref="StdioForwarder.PrepareAsync"/> opened for one process: file:// logs and a binary:// logger.</summary>
internal sealed class ProcessOutputs : IAsyncDisposable
{
    public SafeFileHandle? StdoutFile { get; set; }

    public SafeFileHandle? StderrFile { get; set; }

    public BinaryLogger? Logger { get; set; }

    public async ValueTask DisposeAsync()
    {
        StdoutFile?.Dispose();
        StderrFile?.Dispose();
        if (Logger is not null)
            await Logger.DisposeAsync().ConfigureAwait(false);
    }
}
