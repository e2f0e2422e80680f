using System.Buffers;
using System.Net.Sockets;
using Google.Protobuf;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>The other end of a connection, driven byte by byte: sends whatever a test wants and reads
/// back frames with the codec under test.</summary>
internal sealed class RawPeer(Socket socket) : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly List<byte> _received = [];

    public Socket Socket { get; } = socket;

    public async Task SendAsync(byte[] bytes) => await Socket.SendAsync(bytes.AsMemory()).AsTask().WaitAsync(s_timeout);

    public Task SendFrameAsync(uint streamId, FrameType type, IMessage message) =>
        SendAsync(Frame(streamId, type, message.ToByteArray()));

    public static byte[] Frame(uint streamId, FrameType type, byte[] payload, uint? claimedLength = null)
    {
        var bytes = new byte[FrameCodec.HeaderLength + payload.Length];
        FrameCodec.WriteHeader(bytes, new FrameHeader(claimedLength ?? (uint)payload.Length, streamId, type, 0));
        payload.CopyTo(bytes, FrameCodec.HeaderLength);
        return bytes;
    }

    /// <summary>The next whole frame, or null when the other side closed the connection.</summary>
    public async Task<(FrameHeader Header, byte[] Payload)?> ReadFrameAsync()
    {
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_received.ToArray());
            if (FrameCodec.TryReadFrame(ref buffer, out var frame))
            {
                Assert.Equal(FrameReadKind.Frame, frame.Kind);
                _received.RemoveRange(0, (int)(_received.Count - buffer.Length));
                return (frame.Header, frame.Payload.ToArray());
            }
            int n;
            try
            {
                n = await Socket.ReceiveAsync(chunk.AsMemory()).AsTask().WaitAsync(s_timeout);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // Linux resets a unix stream socket whose peer closed with our bytes still unread.
                n = 0;
            }
            if (n == 0)
            {
                Assert.Empty(_received);
                return null;
            }
            _received.AddRange(chunk.AsSpan(0, n));
        }
    }

    public async Task<(FrameHeader Header, T Message)> ReadAsync<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        var frame = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("connection closed, a frame was expected");
        return (frame.Header, parser.ParseFrom(frame.Payload));
    }

    public void Dispose() => Socket.Dispose();
}
