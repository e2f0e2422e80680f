using System.Text;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// A bundle's `log` FIFO held open read-write, as containerd holds it, collecting what the shim daemon
/// logs. Read-write: opening never blocks, and disposing can wake the blocked reader by writing.
/// </summary>
internal sealed class BundleLogFifo : IAsyncDisposable
{
    private readonly FileStream _fifo;
    private readonly StringBuilder _text = new();
    private readonly Task _reader;
    private volatile bool _stopping;

    private BundleLogFifo(FileStream fifo)
    {
        _fifo = fifo;
        _reader = Task.Factory.StartNew(ReadLoop, TaskCreationOptions.LongRunning);
    }

    public string Text
    {
        get
        {
            lock (_text)
                return _text.ToString();
        }
    }

    public static async Task<BundleLogFifo> CreateAsync(string path)
    {
        (await ChildProcess.RunAsync("mkfifo", ["-m", "0700", path], TimeSpan.FromSeconds(10))).EnsureSuccess("mkfifo");
        return new BundleLogFifo(new FileStream(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite), FileAccess.ReadWrite, bufferSize: 0));
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

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _fifo.Write("\n"u8); // wakes the reader
        await _reader.WaitAsync(TimeSpan.FromSeconds(5));
        await _fifo.DisposeAsync();
    }
}
