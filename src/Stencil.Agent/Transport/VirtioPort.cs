using Microsoft.Win32.SafeHandles;
using Stencil.Agent.Logging;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Transport;

/// <summary>
/// A named virtio-serial port (/dev/vportNpM), opened once for the agent's lifetime. What the
/// virtio_console driver does, and why this class looks the way it does:
/// - while no host client is connected, read() returns 0 at once and poll() reports POLLHUP at
///   once: reading in a loop would spin, so after an end of stream the agent waits for SIGIO, which
///   the driver sends (to an fd with O_ASYNC and F_SETOWN) when the host side opens or closes;
/// - a blocking write() waits while the host is away and then goes out to whoever connects next;
///   so the fd is non-blocking, and a writer waits with poll(POLLOUT), where POLLHUP means the
///   connection it wrote for is gone;
/// - the port can be opened only once; one reader thread owns reads, and what it reads after a
///   connection was dropped is kept for the next one.
/// </summary>
internal sealed class VirtioPort : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly SafeFileHandle _fd;
    private readonly object _lock = new();
    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly AutoResetEvent _readWanted = new(false);
    private readonly AsyncSignal _hostEvent = new();
    private int _start;
    private int _end;
    private bool _readInFlight;
    private Waiter? _waiter;

    private sealed class Waiter(Memory<byte> destination)
    {
        internal Memory<byte> Destination { get; } = destination;
        internal TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private VirtioPort(string path, SafeFileHandle fd)
    {
        Path = path;
        _fd = fd;
        new Thread(ReadLoop) { IsBackground = true, Name = "virtio-port-reader" }.Start();
    }

    internal string Path { get; }

    /// <summary>The /dev node of the port whose name (virtserialport name=...) is <paramref name="name"/>, or null.</summary>
    internal static string? Find(string name, string sysRoot = "/sys", string devRoot = "/dev")
    {
        var ports = System.IO.Path.Combine(sysRoot, "class", "virtio-ports");
        if (!Directory.Exists(ports))
            return null;
        foreach (var dir in Directory.EnumerateDirectories(ports))
        {
            var nameFile = System.IO.Path.Combine(dir, "name");
            if (File.Exists(nameFile) && File.ReadAllText(nameFile).Trim() == name)
                return System.IO.Path.Combine(devRoot, System.IO.Path.GetFileName(dir));
        }
        return null;
    }

    internal static VirtioPort Open(string path)
    {
        var fd = Errno.Check(Libc.Open(path, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC | LibC.O_NOCTTY), $"open {path}");
        if (Libc.Fcntl(fd, LibC.F_SETOWN, Environment.ProcessId) == -1)
        {
            var error = Errno.LastException("F_SETOWN");
            fd.Dispose();
            throw error;
        }
        return new VirtioPort(path, fd);
    }

    /// <summary>Called from the SIGIO handler.</summary>
    internal void OnSigio() => _hostEvent.Set();

    /// <summary>Whether a host client is connected now (poll without waiting: POLLHUP means no).</summary>
    internal bool HostConnected => Libc.Poll(_fd, LibC.POLLIN, 0, out var revents) >= 0 && (revents & LibC.POLLHUP) == 0;

    /// <summary>
    /// Blocks (without spinning) until a host client is connected. SIGIO is asked for only while
    /// waiting: the driver also signals every arriving buffer, which a connected agent does not need.
    /// </summary>
    internal async Task WaitForHostAsync(CancellationToken cancellationToken)
    {
        SetAsync(true);
        try
        {
            while (!HostConnected)
            {
                // The timeout is a safety net against a lost signal, not a poll: one check a minute.
                await _hostEvent.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            SetAsync(false);
        }
    }

    private void SetAsync(bool on)
    {
        var flags = Errno.Check(Libc.Fcntl(_fd, LibC.F_GETFL, 0), "F_GETFL");
        flags = on ? flags | LibC.O_ASYNC : flags & ~LibC.O_ASYNC;
        Errno.Check(Libc.Fcntl(_fd, LibC.F_SETFL, flags), "F_SETFL O_ASYNC");
    }

    /// <summary>Reads at least one byte, or 0 when the host side is not (or no longer) connected.</summary>
    internal Task<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_end > _start)
                return Task.FromResult(TakeBuffered(destination.Span));
            if (_waiter is not null)
                throw new InvalidOperationException("a read is already pending on the virtio port");
            waiter = _waiter = new Waiter(destination);
            if (!_readInFlight)
            {
                _readInFlight = true;
                _readWanted.Set();
            }
        }
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => Abandon(waiter, cancelled: true));
            _ = waiter.Completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return waiter.Completion.Task;
    }

    /// <summary>The connection that asked gives up its read: it completes with 0, and the data the
    /// reader thread gets later stays for the next connection.</summary>
    internal void AbandonRead()
    {
        Waiter? waiter;
        lock (_lock)
            waiter = _waiter;
        if (waiter is not null)
            Abandon(waiter, cancelled: false);
    }

    private void Abandon(Waiter waiter, bool cancelled)
    {
        lock (_lock)
        {
            if (_waiter != waiter)
                return;
            _waiter = null;
        }
        if (cancelled)
            waiter.Completion.TrySetCanceled();
        else
            waiter.Completion.TrySetResult(0);
    }

    /// <summary>Writes everything, or throws IOException when the host side goes away meanwhile.</summary>
    internal void Write(ReadOnlySpan<byte> data)
    {
        var done = 0;
        while (done < data.Length)
        {
            var n = Libc.Write(_fd, data[done..]);
            if (n > 0)
            {
                done += (int)n;
                continue;
            }
            var errno = Errno.Last;
            if (n < 0 && errno == LibC.EINTR)
                continue;
            if (n < 0 && errno != LibC.EAGAIN)
                throw new IOException(Errno.Describe($"write to {Path}", errno));
            if (Libc.Poll(_fd, LibC.POLLOUT, -1, out var revents) < 0 && Errno.Last != LibC.EINTR)
                throw new IOException($"poll on {Path}: errno {Errno.Last}");
            if ((revents & LibC.POLLHUP) != 0)
                throw new IOException($"the host side of {Path} disconnected");
        }
    }

    private int TakeBuffered(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        if (_start == _end)
            _start = _end = 0;
        return n;
    }

    private void ReadLoop()
    {
        while (true)
        {
            _readWanted.WaitOne();
            var n = ReadOnce();
            Waiter? waiter;
            int delivered = 0;
            lock (_lock)
            {
                _readInFlight = false;
                if (n > 0)
                    _end = n;
                waiter = _waiter;
                _waiter = null;
                if (waiter is not null && n > 0)
                    delivered = TakeBuffered(waiter.Destination.Span);
            }
            // End of stream is not kept: the next connection starts only once the host is back.
            waiter?.Completion.TrySetResult(n > 0 ? delivered : 0);
        }
    }

    /// <summary>One read into the (empty) buffer: waits for data with poll, returns 0 at end of stream.</summary>
    private int ReadOnce()
    {
        while (true)
        {
            var n = Libc.Read(_fd, _buffer);
            if (n >= 0)
                return (int)n;
            var errno = Errno.Last;
            if (errno == LibC.EINTR)
                continue;
            if (errno != LibC.EAGAIN)
            {
                AgentLog.Warn($"read {Path}: errno {errno}");
                return 0;
            }
            Libc.Poll(_fd, LibC.POLLIN, -1, out _);
        }
    }

    public void Dispose() => _fd.Dispose();
}
