using System.Net.Sockets;
using System.Runtime.InteropServices;
using Stencil.Agent.Logging;
using Stencil.Ttrpc;

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
    private const int SIGIO = 29;

    internal static async Task ServeVirtioPortAsync(TtrpcServer server, CancellationToken cancellationToken)
    {
        var path = await FindPortAsync(cancellationToken).ConfigureAwait(false);
        using var port = VirtioPort.Open(path);
        // SIGIO's default action kills the process: the handler must be in place before O_ASYNC.
        using var sigio = PosixSignalRegistration.Create((PosixSignal)SIGIO, context =>
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

    /// <summary>Serves vsock connections; returns quietly when the guest has no vsock.</summary>
    internal static async Task ServeVsockAsync(TtrpcServer server, CancellationToken cancellationToken)
    {
        Socket listener;
        try
        {
            listener = new Socket(VsockEndPoint.VsockFamily, SocketType.Stream, ProtocolType.Unspecified);
        }
        catch (SocketException ex)
        {
            AgentLog.Debug($"no vsock: {ex.Message}");
            return;
        }
        using (listener)
        {
            try
            {
                listener.Bind(new VsockEndPoint(VsockEndPoint.AnyCid, VsockPort));
                listener.Listen(16);
            }
            catch (SocketException ex)
            {
                AgentLog.Debug($"vsock port {VsockPort} unavailable: {ex.Message}");
                return;
            }
            AgentLog.Debug($"serving on vsock port {VsockPort}");
            var connections = new List<Task>();
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket peer;
                try
                {
                    peer = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (SocketException ex)
                {
                    AgentLog.Warn($"vsock accept: {ex.Message}");
                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(server.ServeConnectionAsync(new NetworkStream(peer, ownsSocket: true), cancellationToken));
            }
            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }
}
