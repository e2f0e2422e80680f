using System.Net.Sockets;

namespace Stencil.TestSupport;

/// <summary>Two connected unix stream sockets, through an abstract-namespace listener (no file to clean up).</summary>
public static class SocketPair
{
    public static async Task<(Socket Client, Socket Server)> CreateAsync()
    {
        var endpoint = new UnixDomainSocketEndPoint("\0stencil-test-pair-" + Guid.NewGuid().ToString("N"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(endpoint);
        return (client, await accept);
    }
}
