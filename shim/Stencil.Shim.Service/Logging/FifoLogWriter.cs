using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Shim.Interop;

namespace Stencil.Shim.Logging;

/// <summary>
/// Writes log lines into the bundle's `log` FIFO. containerd opens its end (read-write) before it runs
/// `start`, so the open never waits. The fd is non-blocking: when containerd does not keep up, a line
/// is dropped rather than stalling the caller.
/// </summary>
internal sealed class FifoLogWriter : IDisposable
{
    private readonly SafeFileHandle _fd;
    private readonly Lock _lock = new();

    private FifoLogWriter(SafeFileHandle fd) => _fd = fd;

    /// <summary>Opens the FIFO, or returns null when it cannot be opened (no reader, no file).</summary>
    public static FifoLogWriter? TryOpen(string path)
    {
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        return fd < 0 ? null : new FifoLogWriter(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>
    /// Makes fd 2 this FIFO as well, as containerd's Go shims do: whatever the runtime itself prints
    /// on stderr (an unhandled exception, most of all) reaches containerd's log instead of /dev/null.
    /// </summary>
    public void RedirectStandardError()
    {
        var added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            Libc.Dup2((int)_fd.DangerousGetHandle(), 2);
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    public void WriteLine(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_lock)
        {
            var added = false;
            _fd.DangerousAddRef(ref added);
            try
            {
                WriteAll((int)_fd.DangerousGetHandle(), bytes);
            }
            finally
            {
                if (added)
                    _fd.DangerousRelease();
            }
        }
    }

    private static unsafe void WriteAll(int fd, byte[] bytes)
    {
        fixed (byte* p = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var n = Libc.Write(fd, p + done, bytes.Length - done);
                if (n >= 0)
                {
                    done += (int)n;
                    continue;
                }
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                    continue;
                return; // EAGAIN (containerd is behind) or EPIPE (it is gone): drop the rest of the line
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}
