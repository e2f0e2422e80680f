using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

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
        var fd = Libc.Open(path, LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (!fd.IsInvalid)
            return new FifoLogWriter(fd);
        fd.Dispose();
        return null;
    }

    /// <summary>
    /// Makes fd 2 this FIFO as well, as containerd's Go shims do: whatever the runtime itself prints
    /// on stderr (an unhandled exception, most of all) reaches containerd's log instead of /dev/null.
    /// </summary>
    public void RedirectStandardError() => Libc.Dup2(_fd, 2);

    public void WriteLine(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_lock)
            WriteAll(_fd, bytes);
    }

    private static void WriteAll(SafeFileHandle fd, byte[] bytes)
    {
        var done = 0;
        while (done < bytes.Length)
        {
            var n = Libc.Write(fd, bytes.AsSpan(done));
            if (n >= 0)
            {
                done += (int)n;
                continue;
            }
            if (Errno.Last == LibC.EINTR)
                continue;
            return; // EAGAIN (containerd is behind) or EPIPE (it is gone): drop the rest of the line
        }
    }

    public void Dispose() => _fd.Dispose();
}
