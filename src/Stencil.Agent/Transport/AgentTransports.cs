using System.Runtime.InteropServices;
using Stencil.Agent.Logging;
using Stencil.Interop;
using Stencil.Ttrpc;
using Tmds.Linux;

namespace Stencil.Agent.Transport;

/// <summary>
/// Where the agent serves ttRPC: the virtio-serial port named "stencil.agent" (one host client at a
/// time, reconnected after each disconnect, e.g. for every clone of a template), vsock port 1024 when
/// the guest has vsock (any number of connections), or a unix socket when run outside a VM.
/// </summary>
internal static class AgentTransports
{
    internal const string PortName = "stencil.agent";
    internal const uint VsockPort = 1024;

    internal static async Task ServeVirtioPortAsync(TtrpcServer server, CancellationToken cancellationToken)
    {
        var path = await FindPortAsync(cancellationToken).ConfigureAwait(false);
        using var port = VirtioPort.Open(path);
        // SIGIO's default action kills the process: the handler must be in place before O_ASYNC.
        using var sigio = PosixSignalRegistration.Create((PosixSignal)LibC.SIGIO, context =>
        {
            context.Cancel = true;
            port.OnSigio();
        });
        AgentLog.Info($"serving on {path}");
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!port.HostConnected)
            {
                AgentLog.Debug("waiting for the host to connect");
                await port.WaitForHostAsync(cancellationToken).ConfigureAwait(false);
            }
            AgentLog.Debug("host connected");
            await server.ServeConnectionAsync(new PortConnectionStream(port), cancellationToken).ConfigureAwait(false);
            AgentLog.Debug("host connection ended");
        }
    }

    /// <summary>Waits for the port device: present at boot normally, later when hot-plugged.</summary>
    private static async Task<string> FindPortAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        var logged = false;
        while (true)
        {
            var path = VirtioPort.Find(PortName);
            if (path is not null && File.Exists(path))
                return path;
            if (!logged)
            {
                AgentLog.Info($"no virtio port named {PortName} yet; waiting for it");
                logged = true;
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
        }
    }

    /// <summary>
    /// Serves vsock connections on port 1024 (any number at once); returns quietly when the guest
    /// has no vsock. .NET's Socket cannot create AF_VSOCK sockets, so the listening socket is made
    /// with libc, and one thread blocks in accept4 (no wake-ups while nobody connects).
    /// </summary>
    internal static Task ServeVsockAsync(TtrpcServer server, CancellationToken cancellationToken)
    {
        var listener = Libc.Socket(LibC.AF_VSOCK, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (listener.IsInvalid)
        {
            AgentLog.Debug($"no vsock: errno {Errno.Last}");
            listener.Dispose();
            return Task.CompletedTask;
        }
        if (Libc.BindVsock(listener, SockaddrVm.AnyCid, VsockPort) != 0 || Libc.Listen(listener, 16) != 0)
        {
            AgentLog.Debug($"vsock port {VsockPort} unavailable: errno {Errno.Last}");
            listener.Dispose();
            return Task.CompletedTask;
        }
        AgentLog.Info($"serving on vsock port {VsockPort}");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var peer = Libc.Accept4(listener, LibC.SOCK_CLOEXEC);
                if (!peer.IsInvalid)
                {
                    _ = server.ServeConnectionAsync(new SocketFdStream(peer), cancellationToken);
                    continue;
                }
                var errno = Errno.Last;
                peer.Dispose();
                if (errno == LibC.EINTR)
                    continue;
                // ECONNABORTED, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPROTO, EPERM: this peer failed,
                // or we are short of fds for a moment. Anything else will not get better: stop,
                // rather than retry forever and wake an idle guest.
                if (errno == LibC.ECONNABORTED || errno == LibC.EMFILE || errno == LibC.ENFILE || errno == LibC.ENOBUFS
                    || errno == LibC.ENOMEM || errno == LibC.EPROTO || errno == LibC.EPERM)
                {
                    AgentLog.Warn($"vsock accept: errno {errno}");
                    Thread.Sleep(100);
                    continue;
                }
                AgentLog.Warn($"vsock accept failed with errno {errno}; vsock is off");
                break;
            }
            listener.Dispose();
            done.TrySetResult();
        }) { IsBackground = true, Name = "vsock-accept" }.Start();
        return done.Task;
    }
}
