using System.Net.Sockets;
using Stencil.Shim.Interop;
using Stencil.Shim.Logging;
using Stencil.Ttrpc;

namespace Stencil.Shim.Serve;

/// <summary>
/// Accepts containerd's connections on the socket `start` bound (fd 3) and hands each one to the
/// ttRPC server. Only peers running as our own uid are served, as containerd's shims require.
/// </summary>
internal static class ShimListener
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static async Task AcceptAsync(Socket listener, TtrpcServer server, ShimLog log, CancellationToken cancellationToken)
    {
        var uid = Libc.GetEffectiveUserId();
        var connections = new List<Task>();
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break; // the listener was closed: shutting down
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                log.Warning($"accept on the shim socket failed, retrying: {ex.Message}");
                await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            var peerUid = PeerUid(peer);
            if (peerUid != uid)
            {
                log.Warning($"refused a connection from uid {(peerUid is { } u ? u.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown")}");
                peer.Dispose();
                continue;
            }
            log.Debug("containerd connected");
            connections.RemoveAll(static t => t.IsCompleted);
            connections.Add(server.ServeConnectionAsync(new NetworkStream(peer, ownsSocket: true), cancellationToken));
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    /// <summary>SO_PEERCRED: struct ucred { pid_t pid; uid_t uid; gid_t gid; }.</summary>
    private static uint? PeerUid(Socket peer)
    {
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            return peer.GetRawSocketOption(SolSocket, SoPeerCred, ucred) == 12
                ? BitConverter.ToUInt32(ucred[4..8])
                : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
