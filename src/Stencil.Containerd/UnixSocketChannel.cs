using System.Net.Sockets;
using Grpc.Net.Client;

namespace Stencil.Containerd;

/// <summary>
/// A gRPC channel to a server on a unix socket (containerd's API, its CRI plugin): HTTP/2 without TLS,
/// every connection made by connecting to the socket. One connection carries every call (HTTP/2
/// multiplexes); it is kept while idle. Disposing the channel disposes the handler.
/// </summary>
public static class UnixSocketChannel
{
    /// <param name="options">Further options (message sizes); its HttpHandler is replaced.</param>
    public static GrpcChannel Create(string socketPath, GrpcChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var handler = CreateHandler(socketPath);
        options ??= new GrpcChannelOptions();
        options.HttpHandler = handler;
        options.DisposeHttpClient = true;
        // The authority is not used to connect (ConnectCallback does); containerd ignores it.
        return GrpcChannel.ForAddress("http://localhost", options);
    }

    /// <summary>An HTTP handler whose every connection is to the unix socket <paramref name="socketPath"/> (also for plain HTTP/1.1: the factory daemon's metrics).</summary>
    public static SocketsHttpHandler CreateHandler(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        return new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
    }
}
