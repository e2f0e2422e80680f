using System.Buffers;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Processes;

/// <summary>
/// The agent's side of one process's stdio: pipes (stdin write end, stdout and stderr read ends), or
/// a terminal's master, which carries both input and output (stderr is then empty). Reads are
/// chunked for the unary ReadStdout/ReadStderr RPCs: wait for at least one byte, then take whatever
/// else is already there, up to the caller's limit.
/// </summary>
internal sealed class ProcessIo : IDisposable
{
    internal const int MaxChunk = 1 << 20;

    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly SemaphoreSlim _stdoutLock = new(1, 1);
    private readonly SemaphoreSlim _stderrLock = new(1, 1);
    private AsyncFd? _stdin;
    private AsyncFd? _stdout;
    private AsyncFd? _stderr;
    private AsyncFd? _terminal;
    private bool _stdinClosed;

    private ProcessIo(bool terminal) => IsTerminal = terminal;

    internal bool IsTerminal { get; }

    /// <summary>Pipes for a process without a terminal. Returns the child's ends, to pass as its 0/1/2 and close after the spawn.</summary>
    internal static ProcessIo CreatePipes(out ChildStdio child)
    {
        var io = new ProcessIo(terminal: false);
        var stdin = Fd.Pipe();
        var stdout = Fd.Pipe();
        var stderr = Fd.Pipe();
        io._stdin = new AsyncFd(Fd.Release(stdin.Write), isTerminal: false);
        io._stdout = new AsyncFd(Fd.Release(stdout.Read), isTerminal: false);
        io._stderr = new AsyncFd(Fd.Release(stderr.Read), isTerminal: false);
        // Room for a burst of output while the host fetches the previous chunk (best effort: the
        // guest's pipe-max-size may be lower).
        Libc.Fcntl(io._stdout.Handle, LibC.F_SETPIPE_SZ, MaxChunk);
        Libc.Fcntl(io._stderr.Handle, LibC.F_SETPIPE_SZ, 256 * 1024);
        child = new ChildStdio(stdin.Read, stdout.Write, stderr.Write);
        return io;
    }

    /// <summary>For a terminal process: the master arrives later through the console socket.</summary>
    internal static ProcessIo CreateTerminal() => new(terminal: true);

    internal void AttachTerminal(int masterFd)
    {
        _terminal = new AsyncFd(masterFd, isTerminal: true);
    }

    internal async Task<(byte[] Data, bool Eof)> ReadAsync(bool stderr, int maxLength, CancellationToken cancellationToken)
    {
        if (maxLength <= 0 || maxLength > MaxChunk)
            maxLength = MaxChunk;
        var source = IsTerminal ? (stderr ? null : _terminal) : (stderr ? _stderr : _stdout);
        if (source is null)
            return ([], true);
        var gate = stderr ? _stderrLock : _stdoutLock;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(maxLength);
        try
        {
            var n = await source.ReadAsync(buffer.AsMemory(0, maxLength), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return ([], true);
            while (n < maxLength && source.Available > 0)
            {
                var more = source.ReadAvailable(buffer.AsSpan(n, maxLength - n));
                if (more <= 0)
                    break;
                n += more;
            }
            return (buffer.AsSpan(0, n).ToArray(), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            gate.Release();
        }
    }

    /// <summary>The stream (stdout, or stderr) to its end, as UTF-8 text.</summary>
    internal async Task<string> ReadToEndAsync(bool stderr, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        while (true)
        {
            var (data, eof) = await ReadAsync(stderr, 64 * 1024, cancellationToken).ConfigureAwait(false);
            if (eof)
                return text.ToString();
            text.Append(System.Text.Encoding.UTF8.GetString(data));
        }
    }

    internal async Task<int> WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var target = IsTerminal ? _terminal : _stdin;
        if (target is null || target.IsDisposed || (!IsTerminal && _stdinClosed))
            throw StencilException.FailedPrecondition("stdin is closed");
        await _stdinLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await target.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            return data.Length;
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    /// <summary>
    /// End of input. A pipe is closed; a terminal cannot be half-closed, so it gets the EOF
    /// character (^D), which a reader in canonical mode sees as end of file.
    /// </summary>
    internal async Task CloseStdinAsync(CancellationToken cancellationToken)
    {
        if (IsTerminal)
        {
            if (_terminal is { IsDisposed: false } t)
                await t.WriteAsync(new byte[] { 4 }, cancellationToken).ConfigureAwait(false);
            return;
        }
        await _stdinLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _stdinClosed = true;
            _stdin?.Dispose();
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    internal unsafe void Resize(ushort rows, ushort columns)
    {
        if (!IsTerminal || _terminal is null || _terminal.IsDisposed)
            throw StencilException.FailedPrecondition("the process has no terminal");
        var size = new winsize { ws_row = rows, ws_col = columns };
        Errno.Check(Libc.Ioctl(_terminal.Handle, (uint)LibC.TIOCSWINSZ, &size), "TIOCSWINSZ");
    }

    public void Dispose()
    {
        _stdin?.Dispose();
        _stdout?.Dispose();
        _stderr?.Dispose();
        _terminal?.Dispose();
    }
}
