using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Stencil.Shim.Start;
using Tmds.Linux;

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
        _fd = new SafeFileHandle(fd, ownsHandle: true);
        // Mark it close-on-exec: whatever the runtime spawns (QEMU) must not hold `start` open.
        Libc.Fcntl(_fd, LibC.F_SETFD, LibC.FD_CLOEXEC);
    }

    public void Ready() => Send(DaemonLauncher.ReadyMessage);

    public void Fail(string message) => Send(message.Length == 0 ? "the shim daemon failed\n" : message.TrimEnd('\n') + "\n");

    private void Send(string text)
    {
        if (_fd is null)
            return;
        Libc.Write(_fd, Encoding.UTF8.GetBytes(text)); // far below PIPE_BUF: one write
        Dispose();
    }

    public void Dispose()
    {
        _fd?.Dispose();
        _fd = null;
    }
}
