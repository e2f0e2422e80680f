using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Shim.Interop;
using Stencil.Shim.Start;

namespace Stencil.Shim.Serve;

/// <summary>
/// The daemon's end of the pipe `start` waits on (fd 4): "ok\n" once it serves, or the message of
/// the error that stopped it, which `start` then reports to containerd. Closed after one message.
/// </summary>
internal sealed class ReadinessPipe : IDisposable
{
    private SafeFileHandle? _fd;

    public ReadinessPipe(int fd)
    {
        // Mark it close-on-exec: whatever the runtime spawns (QEMU) must not hold `start` open.
        Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
        _fd = new SafeFileHandle(fd, ownsHandle: true);
    }

    public void Ready() => Send(DaemonLauncher.ReadyMessage);

    public void Fail(string message) => Send(message.Length == 0 ? "the shim daemon failed\n" : message.TrimEnd('\n') + "\n");

    private unsafe void Send(string text)
    {
        if (_fd is null)
            return;
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
            Libc.Write((int)_fd.DangerousGetHandle(), p, bytes.Length); // far below PIPE_BUF: one write
        Dispose();
    }

    public void Dispose()
    {
        _fd?.Dispose();
        _fd = null;
    }
}
