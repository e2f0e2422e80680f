using System.Text;

namespace Stencil.Shim.Tests.EndToEnd;

/// <summary>
/// The bundle's `log` FIFO with a reader on it, as containerd has before it runs `start`; collects
/// what the shim daemon writes.
/// </summary>
internal sealed class LogFifo : IDisposable
{
    private readonly int _fd;
    private readonly StringBuilder _text = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public LogFifo(string path)
    {
        if (Native.mkfifo(path, 0x1c0) != 0) // 0700
            throw new IOException($"mkfifo {path} failed");
        _fd = Native.open(path, Native.O_RDONLY | Native.O_NONBLOCK);
        if (_fd < 0)
            throw new IOException($"open {path} failed");
        _reader = Task.Run(ReadLoop);
    }

    public string Text
    {
        get
        {
            lock (_text)
                return _text.ToString();
        }
    }

    /// <summary>The log so far, once it contains <paramref name="expected"/> (the reader polls, so lines arrive a little late).</summary>
    public async Task<string> WaitForAsync(string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!Text.Contains(expected, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the shim log never showed {expected}; it holds:\n{Text}");
            await Task.Delay(10);
        }
        return Text;
    }

    private async Task ReadLoop()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            var n = Native.read(_fd, buffer, buffer.Length);
            if (n > 0)
            {
                lock (_text)
                    _text.Append(Encoding.UTF8.GetString(buffer, 0, (int)n));
                continue;
            }
            // EAGAIN (nothing yet) or EOF (no writer at the moment): look again shortly.
            try
            {
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait();
        Native.close(_fd);
    }
}
