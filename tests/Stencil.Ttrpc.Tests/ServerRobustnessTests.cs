using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>The server facing a client that writes whatever it likes on the wire.</summary>
[Trait("Category", "Unit")]
public class ServerRobustnessTests : IAsyncLifetime
{
    private readonly TestService _service = new();
    private TtrpcServer _server = null!;
    private RawPeer _peer = null!;
    private Task _serving = null!;

    public async Task InitializeAsync()
    {
        var (client, server) = await SocketPair.CreateAsync();
        _server = _service.CreateServer();
        _serving = _server.ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), CancellationToken.None);
        _peer = new RawPeer(client);
    }

    public async Task DisposeAsync()
    {
        _service.Release.Set();
        _peer.Dispose();
        await _server.DisposeAsync();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static Request EchoRequest(string value) => new()
    {
        Service = TestService.Name,
        Method = "Echo",
        Payload = new StringValue { Value = value }.ToByteString(),
    };

    private async Task AssertStillServes(uint streamId)
    {
        await _peer.SendFrameAsync(streamId, FrameType.Request, EchoRequest("alive"));
        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(streamId, header.StreamId);
        Assert.Equal("alive", StringValue.Parser.ParseFrom(response.Payload).Value);
    }

    [Fact]
    public async Task A_success_carries_an_OK_status_as_containerd_ttrpc_sends_it()
    {
        await _peer.SendFrameAsync(1, FrameType.Request, EchoRequest("x"));
        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(new FrameHeader(header.Length, 1, FrameType.Response, 0), header);
        Assert.NotNull(response.Status);
        Assert.Equal(0, response.Status.Code);
    }

    [Fact]
    public async Task An_oversized_request_gets_ResourceExhausted_on_its_stream_and_its_body_is_skipped()
    {
        var body = new byte[FrameCodec.MaxPayloadLength + 1];
        body.AsSpan().Fill(0xAB); // would not even parse, and must never be parsed
        await _peer.SendAsync(RawPeer.Frame(5, FrameType.Request, body));

        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(5u, header.StreamId);
        Assert.Equal((int)RpcCode.ResourceExhausted, response.Status.Code);
        Assert.Equal("message length 4194305 exceeds maximum message size of 4194304", response.Status.Message);
        await AssertStillServes(7);
    }

    [Fact]
    public async Task A_header_claiming_4_GiB_then_end_of_stream_ends_the_connection_quietly()
    {
        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Request, new byte[100_000], claimedLength: 0xFFFF_FFF0));
        _peer.Socket.Shutdown(SocketShutdown.Send);
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await _peer.ReadFrameAsync());
    }

    [Fact]
    public async Task An_unknown_frame_type_gets_Unimplemented_and_the_connection_goes_on()
    {
        await _peer.SendAsync(RawPeer.Frame(9, (FrameType)3, [1, 2, 3, 4]));
        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(9u, header.StreamId);
        Assert.Equal((int)RpcCode.Unimplemented, response.Status.Code);
        Assert.Equal("unsupported ttRPC frame type 0x03 on stream 9: ttRPC 1.1 knows request (1) and response (2)", response.Status.Message);
        await AssertStillServes(11);
    }

    [Fact]
    public async Task An_even_stream_id_gets_InvalidArgument()
    {
        await _peer.SendFrameAsync(4, FrameType.Request, EchoRequest("x"));
        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(4u, header.StreamId);
        Assert.Equal((int)RpcCode.InvalidArgument, response.Status.Code);
        Assert.Equal("ttrpc request on stream 4: client-initiated stream ids must be odd", response.Status.Message);
        await AssertStillServes(5);
    }

    [Fact]
    public async Task A_request_that_does_not_decode_gets_InvalidArgument()
    {
        await _peer.SendAsync(RawPeer.Frame(3, FrameType.Request, [0xFF, 0xFF, 0xFF]));
        var (header, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal(3u, header.StreamId);
        Assert.Equal((int)RpcCode.InvalidArgument, response.Status.Code);
        Assert.StartsWith("ttrpc request on stream 3 (3 bytes) cannot be decoded: ", response.Status.Message);
        await AssertStillServes(5);
    }

    [Fact]
    public async Task A_method_payload_that_does_not_decode_gets_InvalidArgument_naming_the_type()
    {
        var request = EchoRequest("");
        request.Payload = ByteString.CopyFrom(0x0A, 0x05); // field 1, 5 bytes announced, none there
        await _peer.SendFrameAsync(1, FrameType.Request, request);
        var (_, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal((int)RpcCode.InvalidArgument, response.Status.Code);
        Assert.StartsWith("stencil.test.v1.Test.Echo: request payload of 2 bytes is not a StringValue: ", response.Status.Message);
    }

    [Fact]
    public async Task A_response_frame_sent_to_the_server_is_ignored()
    {
        await _peer.SendFrameAsync(1, FrameType.Response, new Response());
        await AssertStillServes(3);
    }

    [Fact]
    public async Task Garbage_closes_the_connection()
    {
        await _peer.SendAsync("GET / HTTP/1.1\r\nHost: stencil\r\n\r\n"u8.ToArray());
        Assert.Null(await _peer.ReadFrameAsync());
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_server_enforces_timeout_nano_with_DeadlineExceeded()
    {
        var request = new Request
        {
            Service = TestService.Name,
            Method = "WaitForCancel",
            Payload = new Empty().ToByteString(),
            TimeoutNano = 100_000_000,
        };
        await _peer.SendFrameAsync(1, FrameType.Request, request);
        var (_, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal((int)RpcCode.DeadlineExceeded, response.Status.Code);
        Assert.Equal("stencil.test.v1.Test.WaitForCancel: deadline exceeded", response.Status.Message);
    }

    [Fact]
    public async Task A_negative_timeout_nano_is_a_deadline_already_past()
    {
        var request = new Request { Service = TestService.Name, Method = "WaitForCancel", TimeoutNano = -5 };
        await _peer.SendFrameAsync(1, FrameType.Request, request);
        var (_, response) = await _peer.ReadAsync(Response.Parser);
        Assert.Equal((int)RpcCode.DeadlineExceeded, response.Status.Code);
    }

    [Fact]
    public async Task Random_bytes_end_in_a_closed_connection_never_in_a_crash()
    {
        var random = new Random(4242);
        for (var i = 0; i < 100; i++)
        {
            var (client, server) = await SocketPair.CreateAsync();
            var serving = _server.ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), CancellationToken.None);
            using var peer = new RawPeer(client);
            var bytes = new byte[random.Next(0, 4096)];
            random.NextBytes(bytes);
            if (bytes.Length > 20 && random.Next(2) == 0)
            {
                // Start with a real request so the random tail lands mid-stream.
                var prefix = RawPeer.Frame(1, FrameType.Request, EchoRequest("p").ToByteArray());
                prefix.CopyTo(bytes, 0);
            }
            try
            {
                await peer.SendAsync(bytes);
                peer.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The server may already have closed on a malformed header.
            }
            await serving.WaitAsync(TimeSpan.FromSeconds(10));
            // Whatever came back is well-formed response frames.
            while (await peer.ReadFrameAsync() is { } frame)
                Assert.Equal(FrameType.Response, frame.Header.Type);
        }
    }
}
