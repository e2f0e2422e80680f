using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>The client facing a server that writes whatever it likes on the wire.</summary>
[Trait("Category", "Unit")]
public class ClientRobustnessTests : IAsyncLifetime
{
    private TtrpcClient _client = null!;
    private RawPeer _peer = null!;

    public async Task InitializeAsync()
    {
        var (client, server) = await SocketPair.CreateAsync();
        _client = new TtrpcClient(new NetworkStream(client, ownsSocket: true));
        _peer = new RawPeer(server);
    }

    public async Task DisposeAsync()
    {
        _peer.Dispose();
        await _client.DisposeAsync();
    }

    private static Response Ok(IMessage message) => new() { Status = new Status(), Payload = message.ToByteString() };

    [Fact]
    public async Task Requests_go_out_on_odd_increasing_stream_ids_with_every_field_set()
    {
        var options = new TtrpcCallOptions
        {
            Timeout = TimeSpan.FromSeconds(2.5),
            Metadata = [new("containerd-namespace-ttrpc", "default")],
        };
        var first = _client.CallAsync(TestService.Echo, new StringValue { Value = "one" }, options);
        var second = _client.CallAsync(TestService.Echo, new StringValue { Value = "two" });

        var (h1, r1) = await _peer.ReadAsync(Request.Parser);
        var (h2, r2) = await _peer.ReadAsync(Request.Parser);
        Assert.Equal(new FrameHeader(h1.Length, 1, FrameType.Request, 0), h1);
        Assert.Equal(3u, h2.StreamId);
        Assert.Equal(new Request
        {
            Service = "stencil.test.v1.Test",
            Method = "Echo",
            Payload = new StringValue { Value = "one" }.ToByteString(),
            TimeoutNano = 2_500_000_000,
            Metadata = { new KeyValue { Key = "containerd-namespace-ttrpc", Value = "default" } },
        }, r1);
        Assert.Equal(0, r2.TimeoutNano);
        Assert.Empty(r2.Metadata);

        // Answered in the opposite order, each still reaches its own caller.
        await _peer.SendFrameAsync(3, FrameType.Response, Ok(new StringValue { Value = "for two" }));
        await _peer.SendFrameAsync(1, FrameType.Response, Ok(new StringValue { Value = "for one" }));
        Assert.Equal("for two", (await second.WaitAsync(TimeSpan.FromSeconds(10))).Value);
        Assert.Equal("for one", (await first.WaitAsync(TimeSpan.FromSeconds(10))).Value);
    }

    [Fact]
    public async Task A_response_without_a_status_is_a_success()
    {
        var call = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = new StringValue { Value = "bare" }.ToByteString() });
        Assert.Equal("bare", (await call.WaitAsync(TimeSpan.FromSeconds(10))).Value);
    }

    [Fact]
    public async Task Responses_for_unknown_streams_and_request_frames_are_dropped()
    {
        var call = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(99, FrameType.Response, Ok(new StringValue { Value = "stray" }));
        await _peer.SendFrameAsync(1, FrameType.Request, new Request { Service = "x", Method = "y" });
        await _peer.SendAsync(RawPeer.Frame(1, (FrameType)7, [1, 2, 3]));
        await _peer.SendFrameAsync(1, FrameType.Response, Ok(new StringValue { Value = "mine" }));
        Assert.Equal("mine", (await call.WaitAsync(TimeSpan.FromSeconds(10))).Value);
    }

    [Fact]
    public async Task An_oversized_response_fails_only_its_call_with_ResourceExhausted()
    {
        var big = _client.CallAsync(TestService.Echo, new StringValue());
        var small = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.ReadFrameAsync();

        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Response, new byte[FrameCodec.MaxPayloadLength + 10]));
        var ex = await Assert.ThrowsAsync<StencilException>(() => big.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.Equal("ttrpc response on stream 1: message length 4194314 exceeds maximum message size of 4194304", ex.Message);

        await _peer.SendFrameAsync(3, FrameType.Response, Ok(new StringValue { Value = "fine" }));
        Assert.Equal("fine", (await small.WaitAsync(TimeSpan.FromSeconds(10))).Value);
    }

    [Fact]
    public async Task A_response_that_does_not_decode_fails_its_call_with_Internal()
    {
        var call = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Response, [0xFF, 0xFF]));
        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.Internal, ex.Kind);
        Assert.StartsWith("ttrpc response on stream 1 (2 bytes) cannot be decoded: ", ex.Message);
    }

    [Fact]
    public async Task A_payload_of_the_wrong_type_fails_with_Internal_naming_the_type()
    {
        var call = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = ByteString.CopyFrom(0x0A, 0x09, 0x01) });
        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.Internal, ex.Kind);
        Assert.StartsWith("ttrpc call stencil.test.v1.Test.Echo: response payload of 3 bytes is not a StringValue: ", ex.Message);
    }

    [Fact]
    public async Task Garbage_from_the_server_closes_the_connection_and_fails_every_call()
    {
        var calls = new[] { _client.CallAsync(TestService.Echo, new StringValue()), _client.CallAsync(TestService.Echo, new StringValue()) };
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(Bytes.Hex("00000004 00000000 02 00 01020304"));
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(ErrorKind.Unavailable, ex.Kind);
            Assert.Equal("ttrpc connection closed: malformed ttRPC frame header 00000004000000000200: stream id 0 is never used by ttRPC", ex.Message);
        }
        await _client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_server_closing_mid_frame_says_so()
    {
        var call = _client.CallAsync(TestService.Echo, new StringValue());
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(Bytes.Hex("00000010 00000001 02 00 0102"));
        _peer.Socket.Shutdown(SocketShutdown.Send);
        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("ttrpc connection closed: end of stream in the middle of a frame (12 bytes of it received)", ex.Message);
    }
}
