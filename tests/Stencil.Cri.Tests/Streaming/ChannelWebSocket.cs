using System.Net.WebSockets;
using System.Text;

namespace Stencil.Cri.Tests.Streaming;

/// <summary>
/// A minimal client of the Kubernetes streaming protocol "v4.channel.k8s.io" (the websocket form that
/// kubelet's streaming server, and so containerd's, accepts besides SPDY): every binary message starts
/// with one channel byte. Exec uses 0 stdin, 1 stdout, 2 stderr, 3 error (a JSON Status once the
/// command ended); port forward uses 2*i data and 2*i+1 error for the i-th port, and each of these
/// first carries the port number (2 bytes, little endian).
/// </summary>
internal sealed class ChannelWebSocket : IDisposable
{
    public const string Protocol = "v4.channel.k8s.io";

    private readonly ClientWebSocket _socket;

    private ChannelWebSocket(ClientWebSocket socket) => _socket = socket;

    /// <summary>Upgrades a URL of the streaming server (http://host:port/exec/TOKEN and the like) to a websocket.</summary>
    public static async Task<ChannelWebSocket> ConnectAsync(string url, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Protocol);
        try
        {
            var uri = new UriBuilder(url) { Scheme = url.StartsWith("https:", StringComparison.Ordinal) ? "wss" : "ws" }.Uri;
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return new ChannelWebSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public string? NegotiatedProtocol => _socket.SubProtocol;

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await _socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next message as (channel, payload), or null once the server closed the socket.</summary>
    public async Task<(byte Channel, byte[] Data)?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException) when (_socket.State != WebSocketState.Open)
            {
                // The stream server drops the connection without a close handshake when it is done.
                return null;
            }
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                break;
        }
        var bytes = message.ToArray();
        if (bytes.Length == 0)
            return (255, []);
        return (bytes[0], bytes[1..]);
    }

    /// <summary>Reads until the server closes and returns what each channel carried, concatenated.</summary>
    public async Task<Dictionary<byte, byte[]>> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var channels = new Dictionary<byte, MemoryStream>();
        while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)
        {
            if (!channels.TryGetValue(message.Channel, out var stream))
                channels[message.Channel] = stream = new MemoryStream();
            stream.Write(message.Data);
        }
        return channels.ToDictionary(c => c.Key, c => c.Value.ToArray());
    }

    public static string Text(Dictionary<byte, byte[]> channels, byte channel) =>
        channels.TryGetValue(channel, out var data) ? Encoding.UTF8.GetString(data) : "";

    public void Dispose() => _socket.Dispose();
}
