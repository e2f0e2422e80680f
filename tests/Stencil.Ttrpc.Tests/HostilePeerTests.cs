using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Ttrpc.Internal;
using Stencil.Ttrpc.Wire;

namespace Stencil.Ttrpc.Tests;

/// <summary>
/// A client with <see cref="TtrpcClientOptions.ForUntrustedPeer"/>-style bounds facing a server that is
/// hostile (Kata's threat model: the guest, its agent included, may be fully compromised). Whatever the
/// peer does, every call ends within a bounded time with an error that says what the peer did wrong.
/// </summary>
[Trait("Category", "Unit")]
public class HostilePeerTests : IAsyncLifetime
{
    private static readonly TimeSpan s_bounded = TimeSpan.FromSeconds(10);

    private static readonly TtrpcClientOptions s_strict = TtrpcClientOptions.ForUntrustedPeer with
    {
        FrameTimeout = TimeSpan.FromMilliseconds(500),
        WriteStallTimeout = TimeSpan.FromMilliseconds(500),
        MaxPendingCalls = 16,
        MaxQueuedBytes = 4 << 20,
    };

    private TtrpcClient _client = null!;
    private RawPeer _peer = null!;

    public async Task InitializeAsync()
    {
        var (client, server) = await SocketPair.CreateAsync();
        _client = new TtrpcClient(new NetworkStream(client, ownsSocket: true), s_strict);
        _peer = new RawPeer(server);
    }

    public async Task DisposeAsync()
    {
        _peer.Dispose();
        await _client.DisposeAsync().AsTask().WaitAsync(s_bounded);
    }

    private Task<StringValue> Echo() => _client.CallAsync(TestService.Echo, new StringValue { Value = "x" });

    private static async Task<StencilException> Fails(Task call, ErrorKind kind)
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_bounded));
        Assert.Equal(kind, ex.Kind);
        return ex;
    }

    private async Task ClosedWith(string reason)
    {
        await _client.Closed.WaitAsync(s_bounded);
        Assert.Equal(reason, _client.CloseReason);
        var later = await Fails(Echo(), ErrorKind.Unavailable);
        Assert.Equal($"ttrpc connection closed: {reason}", later.Message);
    }

    [Fact]
    public async Task An_oversized_response_header_closes_the_connection_before_any_of_its_body_is_waited_for()
    {
        var call = Echo();
        var other = Echo();
        await _peer.ReadFrameAsync();
        await _peer.ReadFrameAsync();

        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Response, [], claimedLength: 0xFFFF_FFF0)); // no body follows

        var ex = await Fails(call, ErrorKind.ResourceExhausted);
        Assert.Equal("ttrpc response on stream 1: message length 4294967280 exceeds maximum message size of 4194304", ex.Message);
        var reason = $"protocol violation by the peer: {ex.Message}";
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(other, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }

    [Fact]
    public async Task Garbage_that_is_not_ttRPC_closes_the_connection_and_names_the_header_bytes()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"));

        var reason = "malformed ttRPC frame header 485454502F312E312034: unknown frame type 0x20 with length 1213486160 over the maximum of 4194304";
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task Random_bytes_end_every_call_within_the_frame_timeout(int seed)
    {
        var calls = new[] { Echo(), Echo() };
        await _peer.ReadFrameAsync();
        await _peer.ReadFrameAsync();
        var garbage = new byte[4096];
        new Random(seed).NextBytes(garbage);
        await _peer.SendAsync(garbage);

        // Whichever way the bytes decode (a malformed header, a frame of unknown type, an undecodable
        // response, a frame that never completes), the connection ends and says why.
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_bounded));
            Assert.True(ex.Kind is ErrorKind.Unavailable or ErrorKind.Internal or ErrorKind.ResourceExhausted, ex.ToString());
        }
        await _client.Closed.WaitAsync(s_bounded);
        Assert.Matches("^(malformed ttRPC frame header|protocol violation by the peer|a frame begun by the peer|the body of a frame)", _client.CloseReason);
    }

    [Fact]
    public async Task A_response_that_never_finishes_closes_the_connection_after_the_frame_timeout()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Response, [0x12, 0x03], claimedLength: 1000)); // 2 of 1000 bytes, then silence

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reason = "a frame begun by the peer was not completed within 0.5 s (12 bytes of it received)";
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
        await ClosedWith(reason);
    }

    [Fact]
    public async Task A_dribbled_response_is_held_to_the_deadline_of_its_first_byte()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        var frame = RawPeer.Frame(1, FrameType.Response, new Response { Payload = new StringValue { Value = new string('a', 200) }.ToByteString() }.ToByteArray());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // One byte every 50 ms would take over 10 s: each byte resets nothing.
        var dribble = Task.Run(async () =>
        {
            try
            {
                foreach (var b in frame)
                {
                    await _peer.SendAsync([b]);
                    await Task.Delay(50);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or TimeoutException)
            {
            }
        });

        var ex = await Fails(call, ErrorKind.Unavailable);
        Assert.StartsWith("ttrpc connection closed: a frame begun by the peer was not completed within 0.5 s (", ex.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
        _peer.Socket.Shutdown(SocketShutdown.Both);
        await dribble.WaitAsync(s_bounded);
    }

    [Fact]
    public async Task A_peer_that_stops_reading_costs_a_bounded_queue_then_the_connection()
    {
        // The peer never reads: the socket buffers fill, then the queue, then the stall timeout closes.
        var payload = new BytesValue { Value = ByteString.CopyFrom(new byte[512 << 10]) };
        var method = new TtrpcMethod<BytesValue, Empty>(TestService.Name, "Sink");
        var calls = new List<Task<Empty>>();
        Task<Empty>? refused = null;
        for (var i = 0; i < 16 && refused is null; i++)
        {
            var call = _client.CallAsync(method, payload);
            if (call.IsFaulted)
                refused = call; // the check is made before anything is queued
            else
                calls.Add(call);
        }

        Assert.NotNull(refused);
        Assert.Matches(@"^ttrpc call stencil\.test\.v1\.Test\.Sink: \d+ bytes of requests are still waiting for the peer to read them; 524\d{3} more would pass the limit of 4194304$",
            (await Fails(refused, ErrorKind.ResourceExhausted)).Message);
        var reason = "peer stopped reading: a write waited 0.5 s for it to take bytes";
        foreach (var call in calls)
            Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }

    [Fact]
    public async Task A_payload_of_the_wrong_type_fails_its_call_and_closes_the_connection()
    {
        var call = Echo();
        var other = Echo();
        await _peer.ReadFrameAsync();
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = ByteString.CopyFrom(0x0A, 0x09, 0x01) });

        var ex = await Fails(call, ErrorKind.Internal);
        Assert.StartsWith("ttrpc call stencil.test.v1.Test.Echo: response payload of 3 bytes is not a StringValue: ", ex.Message);
        Assert.Equal($"ttrpc connection closed: protocol violation by the peer: {ex.Message}", (await Fails(other, ErrorKind.Unavailable)).Message);
    }

    [Fact]
    public async Task An_undecodable_response_fails_its_call_and_closes_the_connection()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(RawPeer.Frame(1, FrameType.Response, [0xFF, 0xFF]));

        var ex = await Fails(call, ErrorKind.Internal);
        Assert.StartsWith("ttrpc response on stream 1 (2 bytes) cannot be decoded: ", ex.Message);
        await ClosedWith($"protocol violation by the peer: {ex.Message}");
    }

    [Theory]
    [InlineData(1, "protocol violation by the peer: a request frame on stream 2 (0 bytes), but this client serves nothing")]
    [InlineData(3, "protocol violation by the peer: a frame of unknown type 0x03 on stream 2 (3 bytes)")]
    public async Task A_frame_a_client_has_no_use_for_closes_the_connection(byte frameType, string reason)
    {
        var type = (FrameType)frameType;
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendAsync(RawPeer.Frame(2, type, type == FrameType.Request ? [] : [1, 2, 3]));
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }

    [Fact]
    public async Task A_response_on_a_stream_never_opened_closes_the_connection()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1_000_001, FrameType.Response, new Response { Status = new Status() });
        var reason = "protocol violation by the peer: a response on stream 1000001, which this client never opened";
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }

    [Fact]
    public async Task A_late_answer_to_a_call_that_timed_out_is_not_a_violation()
    {
        var late = _client.CallAsync(TestService.Echo, new StringValue(), new TtrpcCallOptions { Timeout = TimeSpan.FromMilliseconds(50) });
        await _peer.ReadFrameAsync();
        await Fails(late, ErrorKind.DeadlineExceeded);
        await _peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = new StringValue { Value = "late" }.ToByteString() });

        var next = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(3, FrameType.Response, new Response { Payload = new StringValue { Value = "on time" }.ToByteString() });
        Assert.Equal("on time", (await next.WaitAsync(s_bounded)).Value);
        Assert.Null(_client.CloseReason);
    }

    [Fact]
    public async Task Calls_past_the_limit_in_flight_fail_at_once_and_the_limit_frees_as_answers_come()
    {
        var calls = Enumerable.Range(0, 16).Select(_ => Echo()).ToList();
        var ex = await Fails(Echo(), ErrorKind.ResourceExhausted);
        Assert.Equal("ttrpc call stencil.test.v1.Test.Echo: 16 calls are already waiting for the peer's answer (the limit)", ex.Message);

        for (var i = 0; i < 16; i++)
            await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = new StringValue { Value = "one" }.ToByteString() });
        Assert.Equal("one", (await calls[0].WaitAsync(s_bounded)).Value);
        var another = Echo();
        Assert.Equal(33u, (await _peer.ReadFrameAsync())!.Value.Header.StreamId);
        Assert.False(another.IsCompleted);
    }

    [Fact]
    public async Task A_status_message_of_a_MiB_is_cut_to_4096_characters()
    {
        var call = Echo();
        await _peer.ReadFrameAsync();
        await _peer.SendFrameAsync(1, FrameType.Response,
            new Response { Status = new Status { Code = (int)RpcCode.NotFound, Message = new string('m', 1 << 20) } });
        var ex = await Fails(call, ErrorKind.NotFound);
        Assert.Equal(new string('m', 4096) + "... (cut; 1048576 characters in all)", ex.Message);
        Assert.Null(_client.CloseReason);
    }

    [Fact]
    public async Task Abort_closes_the_connection_with_the_callers_reason()
    {
        var call = Echo();
        _client.Abort("read of 10 bytes answered with 20");
        var reason = "protocol violation by the peer: read of 10 bytes answered with 20";
        Assert.Equal($"ttrpc connection closed: {reason}", (await Fails(call, ErrorKind.Unavailable)).Message);
        await ClosedWith(reason);
    }
}
