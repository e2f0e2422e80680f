using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Pod;

/// <summary>
/// A binary:// logger for one process, as containerd's shims run it: the program gets the process's
/// stdout on fd 3, its stderr on fd 4 and a ready pipe on fd 5 (it closes or writes to fd 5 once it
/// is ready), CONTAINER_ID and CONTAINER_NAMESPACE in its environment, /dev/null as 0/1/2. The shim
/// writes the output into fds 3 and 4 (<see cref="Stdout"/>, <see cref="Stderr"/>). When the
/// process's output ends the shim closes them, the logger sees EOF and should exit; one that has not
/// after <see cref="ExitTimeout"/> is killed. A logger that dies early is not restarted: the rest of
/// the output is dropped (logged at debug), and the process goes on, as with containerd's shims.
/// </summary>
internal sealed class BinaryLogger : IAsyncDisposable
{
    /// <summary>How long a logger is given to get ready (fd 5) and to exit after EOF (containerd: 12 s to exit).</summary>
    internal static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    internal static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(12);

    private readonly int _pid;
    private readonly Task<int> _exited;
    private readonly string _what;
    private readonly ILog _log;

    private BinaryLogger(int pid, SafeFileHandle stdout, SafeFileHandle stderr, string what, ILog log)
    {
        _pid = pid;
        Stdout = stdout;
        Stderr = stderr;
        _what = what;
        _log = log;
        _exited = ChildExit.WaitAsync(pid);
    }

    /// <summary>The write end of the logger's fd 3.</summary>
    public SafeFileHandle Stdout { get; }

    /// <summary>The write end of the logger's fd 4.</summary>
    public SafeFileHandle Stderr { get; }

    /// <summary>Starts the logger and waits until it is ready.</summary>
    /// <exception cref="StencilException">The program cannot be run, exits or is not ready in time (the process is not started then).</exception>
    public static async Task<BinaryLogger> StartAsync(StdioTarget target, string containerNamespace, string containerId, string what, ILog log,
        CancellationToken cancellationToken)
    {
        var (outRead, outWrite) = Libc.Pipe2(LibC.O_CLOEXEC);
        var (errRead, errWrite) = Libc.Pipe2(LibC.O_CLOEXEC);
        var (readyRead, readyWrite) = Libc.Pipe2(LibC.O_CLOEXEC);
        int pid;
        try
        {
            using var actions = new SpawnFileActions();
            actions.AddOpen(0, "/dev/null", LibC.O_RDONLY);
            actions.AddOpen(1, "/dev/null", LibC.O_WRONLY);
            actions.AddOpen(2, "/dev/null", LibC.O_WRONLY);
            actions.AddDup2(outRead, 3);
            actions.AddDup2(errRead, 4);
            actions.AddDup2(readyWrite, 5);
            using var attributes = new SpawnAttributes(newSession: false);
            string[] environment =
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                $"CONTAINER_ID={containerId}",
                $"CONTAINER_NAMESPACE={containerNamespace}",
            ];
            var rc = Libc.PosixSpawn(target.Path, [target.Path, .. target.Args], environment, actions, attributes, out pid);
            if (rc != 0)
                throw Errno.Exception(rc, $"{what}: cannot start the binary:// logger {target.Path}");
        }
        catch
        {
            outWrite.Dispose();
            errWrite.Dispose();
            throw;
        }
        finally
        {
            outRead.Dispose();
            errRead.Dispose();
            readyWrite.Dispose();
        }

        var logger = new BinaryLogger(pid, outWrite, errWrite, what, log);
        using (readyRead)
        {
            // Ready: fd 5 closed (EOF) or written to. Read on a thread of its own: a pipe read blocks.
            var ready = Task.Factory.StartNew(() =>
            {
                var one = new byte[1];
                using var stream = new FileStream(readyRead, FileAccess.Read, bufferSize: 0);
                return stream.Read(one);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var first = await Task.WhenAny(ready, logger._exited, Task.Delay(ReadyTimeout, cancellationToken)).ConfigureAwait(false);
            if (first != ready || logger._exited.IsCompleted)
            {
                // Not ready: exited before, or still silent. Either way the process must not start.
                var exitedFirst = logger._exited.IsCompleted && !ready.IsCompletedSuccessfully;
                await logger.DisposeAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw StencilException.FailedPrecondition(exitedFirst
                    ? $"{what}: the binary:// logger {target.Path} exited before it was ready ({ChildExit.Describe(logger._exited.Result)})"
                    : $"{what}: the binary:// logger {target.Path} was not ready (fd 5) within {ReadyTimeout.TotalSeconds:F0} s");
            }
        }
        log.Debug($"{what}: binary:// logger {target} ready (pid {pid})");
        return logger;
    }

    /// <summary>Closes the logger's input (it sees EOF on fds 3 and 4) and waits for it to exit, killing it after <see cref="ExitTimeout"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Stdout.Dispose();
        Stderr.Dispose();
        if (await Task.WhenAny(_exited, Task.Delay(ExitTimeout)).ConfigureAwait(false) != _exited)
        {
            _log.Warning($"{_what}: the binary:// logger (pid {_pid}) did not exit within {ExitTimeout.TotalSeconds:F0} s of the end of the output; killing it");
            _ = Libc.Kill(_pid, LibC.SIGKILL);
            await _exited.ConfigureAwait(false);
        }
        else if (_exited.Result != 0)
        {
            _log.Debug($"{_what}: the binary:// logger (pid {_pid}) {ChildExit.Describe(_exited.Result)}");
        }
    }
}
