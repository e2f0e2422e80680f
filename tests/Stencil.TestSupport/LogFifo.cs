using System.Runtime.InteropServices;
using System.Text;

namespace Stencil.TestSupport;

/// <summary>
/// A bundle's `log` FIFO with a reader on it, as containerd has it before it runs the shim's `start`:
/// it collects what the shim daemon logs. Held open read-write, as containerd holds it: opening never
/// blocks, the reader never sees end-of-file between writers (the daemon is not the first writer: `start`
/// is), and disposing wakes the blocked reader by writing to it.
/// </summary>
public sealed class LogFifo : IDisposable, IAsyncDisposable
{
    private readonly FileStream _fifo;
    private readonly StringBuilder _text = new();
    private readonly Task _reader;
    private volatile bool _stopping;
    private bool _disposed;

    private LogFifo(FileStream fifo)
    {
        _fifo = fifo;
        _reader = Task.Factory.StartNew(ReadLoop, TaskCreationOptions.LongRunning);
    }

    /// <summary>Everything logged so far.</summary>
    public string Text
    {
        get
        {
            lock (_text)
                return _text.ToString();
        }
    }

    /// <summary>Makes the FIFO at <paramref name="path"/> (mode 0700, like containerd) and starts reading it.</summary>
    public static LogFifo Create(string path)
    {
        if (mkfifo(path, 0x1c0) != 0) // 0700
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
        return new LogFifo(new FileStream(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite), FileAccess.ReadWrite, bufferSize: 0));
    }

    /// <summary>The log so far, once it contains <paramref name="expected"/> (lines arrive a little after the daemon writes them).</summary>
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

    private void ReadLoop()
    {
        var buffer = new byte[4096];
        while (!_stopping)
        {
            int n;
            try
            {
                n = _fifo.Read(buffer);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                return;
            }
            lock (_text)
                _text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stopping = true;
        _fifo.Write("\n"u8); // wakes the reader
        _reader.Wait(TimeSpan.FromSeconds(5));
        _fifo.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);
}
