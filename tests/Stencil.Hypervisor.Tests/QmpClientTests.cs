using System.Net.Sockets;
using System.Text.Json;
using Stencil.Hypervisor.Internal;
using Stencil.Hypervisor.Tests.Support;

namespace Stencil.Hypervisor.Tests;

/// <summary>QmpClient against a scripted peer: ordering, events, errors, disconnects.</summary>
[Trait("Category", "Unit")]
public sealed class QmpClientTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static async Task<(FakeQmpPeer Peer, QmpClient Client)> ConnectedAsync()
    {
        var peer = new FakeQmpPeer();
        var connect = QmpClient.ConnectAsync(peer.Path);
        await peer.HandshakeAsync();
        return (peer, await connect.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Nothing_is_sent_before_the_greeting()
    {
        await using var peer = new FakeQmpPeer();
        var connect = QmpClient.ConnectAsync(peer.Path);
        await peer.AcceptAsync();

        Assert.True(await peer.IsQuietForAsync(TimeSpan.FromMilliseconds(200)), "client spoke before QEMU's greeting");
        Assert.False(connect.IsCompleted);

        await peer.SendAsync(FakeQmpPeer.Greeting);
        var first = await peer.ReplyAsync();
        Assert.Equal("qmp_capabilities", first.GetProperty("execute").GetString());
        await using var client = await connect.WaitAsync(s_timeout);
        Assert.Equal("7.2.22", client.QemuVersion);
    }

    [Fact]
    public async Task An_event_between_command_and_reply_goes_to_the_event_channel()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var status = client.ExecuteAsync("query-status");
        var command = await peer.ReadCommandAsync();
        Assert.Equal("query-status", command.GetProperty("execute").GetString());
        await peer.SendAsync("""{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}""");
        await peer.SendAsync($$"""{"return": {"status": "paused", "running": false}, "id": {{command.GetProperty("id")}}}""");

        Assert.Equal("paused", (await status.WaitAsync(s_timeout)).GetProperty("status").GetString());
        var e = await client.Events.ReadAsync().AsTask().WaitAsync(s_timeout);
        Assert.Equal("STOP", e.Name);
    }

    [Fact]
    public async Task Arguments_are_sent_as_an_object()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var call = client.ExecuteAsync("device_del", w => w.WriteString("id", "disk1"));
        var command = await peer.ReplyAsync();
        await call.WaitAsync(s_timeout);
        Assert.Equal("disk1", command.GetProperty("arguments").GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_error_reply_names_the_command_and_qemus_description()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var call = client.ExecuteAsync("device_del", w => w.WriteString("id", "nope"));
        var command = await peer.ReadCommandAsync();
        await peer.SendAsync($$"""{"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}, "id": {{command.GetProperty("id")}}}""");

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_timeout));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal("qemu command 'device_del' failed (DeviceNotFound): Device 'nope' not found", ex.Message);

        // The connection is still good.
        var next = client.ExecuteAsync("query-status");
        await peer.ReplyAsync("""{"status": "running"}""");
        await next.WaitAsync(s_timeout);
    }

    [Fact]
    public async Task A_disconnect_fails_the_command_in_flight_and_every_later_one()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var call = client.ExecuteAsync("migrate", w => w.WriteString("uri", "fd:x"));
        await peer.ReadCommandAsync();
        peer.Disconnect();

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_timeout));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Contains("'migrate' got no reply", ex.Message);
        Assert.Contains("closed by QEMU", ex.Message);

        var later = await Assert.ThrowsAsync<StencilException>(() => client.ExecuteAsync("query-status").WaitAsync(s_timeout));
        Assert.Equal(ErrorKind.Unavailable, later.Kind);
        Assert.Contains("'query-status'", later.Message);

        await client.Closed.WaitAsync(s_timeout);
        Assert.False(await client.Events.WaitToReadAsync().AsTask().WaitAsync(s_timeout), "event channel should complete");
    }

    [Fact]
    public async Task Only_one_command_is_in_flight()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var first = client.ExecuteAsync("stop");
        var second = client.ExecuteAsync("query-status");
        var firstCommand = await peer.ReadCommandAsync();
        Assert.Equal("stop", firstCommand.GetProperty("execute").GetString());
        Assert.True(await peer.IsQuietForAsync(TimeSpan.FromMilliseconds(200)), "second command sent before the first was answered");

        await peer.SendAsync($$"""{"return": {}, "id": {{firstCommand.GetProperty("id")}}}""");
        await first.WaitAsync(s_timeout);
        var secondCommand = await peer.ReplyAsync("""{"status": "paused"}""");
        Assert.Equal("query-status", secondCommand.GetProperty("execute").GetString());
        Assert.Equal("paused", (await second.WaitAsync(s_timeout)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_cancelled_caller_keeps_the_slot_until_its_reply_arrives()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        using var cts = new CancellationTokenSource();
        var slow = client.ExecuteAsync("query-migrate", null, cts.Token);
        var slowCommand = await peer.ReadCommandAsync();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);

        var next = client.ExecuteAsync("query-status");
        Assert.True(await peer.IsQuietForAsync(TimeSpan.FromMilliseconds(150)), "next command sent while the cancelled one was still unanswered");

        // The late reply is consumed by the abandoned command, not handed to the next one.
        await peer.SendAsync($$"""{"return": {"status": "active"}, "id": {{slowCommand.GetProperty("id")}}}""");
        await peer.ReplyAsync("""{"status": "running"}""");
        Assert.Equal("running", (await next.WaitAsync(s_timeout)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"return": {}, "id": 999}""", "id 999")]
    [InlineData("this is not json", "not valid JSON")]
    [InlineData("""{"something": "else"}""", "none of")]
    public async Task A_peer_that_breaks_the_protocol_is_dropped(string line, string expected)
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        var call = client.ExecuteAsync("query-status");
        await peer.ReadCommandAsync();
        await peer.SendAsync(line);

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_timeout));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_drops_the_connection()
    {
        await using var peer = new FakeQmpPeer();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(peer.Path));
        var start = QmpClient.StartAsync(socket, peer.Path, maxLineBytes: 256, CancellationToken.None);
        await peer.HandshakeAsync();
        await using var client = await start.WaitAsync(s_timeout);

        var call = client.ExecuteAsync("query-qmp-schema");
        await peer.ReadCommandAsync();
        await peer.SendRawAsync("{\"return\": \"" + new string('x', 300));

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_timeout));
        Assert.Contains("longer than 256 bytes", ex.Message);
    }

    [Fact]
    public async Task Connecting_to_nothing_is_unavailable()
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() => QmpClient.ConnectAsync("/tmp/stencil-test-no-such-dir/qmp.sock"));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Contains("/tmp/stencil-test-no-such-dir/qmp.sock", ex.Message);
    }

    [Fact]
    public async Task A_peer_that_closes_before_greeting_fails_the_connect()
    {
        await using var peer = new FakeQmpPeer();
        var connect = QmpClient.ConnectAsync(peer.Path);
        await peer.AcceptAsync();
        peer.Disconnect();
        var ex = await Assert.ThrowsAsync<StencilException>(() => connect.WaitAsync(s_timeout));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
    }

    [Fact]
    public async Task Dispose_fails_a_waiting_command_and_is_idempotent()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;

        var call = client.ExecuteAsync("query-status");
        await peer.ReadCommandAsync();
        await client.DisposeAsync();
        await client.DisposeAsync();

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(s_timeout));
        Assert.Contains("closed by its owner", ex.Message);
    }

    [Fact]
    public async Task Unread_events_beyond_the_backlog_drop_the_oldest_and_never_block_replies()
    {
        var (peer, client) = await ConnectedAsync();
        await using var _ = peer;
        await using var __ = client;

        for (var i = 0; i < QmpClient.EventBacklog + 10; i++)
            await peer.SendAsync("{\"event\": \"E" + i + "\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
        var call = client.ExecuteAsync("query-status");
        await peer.ReplyAsync("""{"status": "running"}""");
        await call.WaitAsync(s_timeout);

        var first = await client.Events.ReadAsync();
        Assert.Equal("E10", first.Name);
    }

    [Fact]
    public void Json_of_a_reply_survives_the_reader_buffer()
    {
        // Payloads are cloned out of the parse buffer: they stay valid after the reader moves on.
        var m = QmpMessage.Parse(new System.Buffers.ReadOnlySequence<byte>("""{"return": [1, 2, 3], "id": 1}"""u8.ToArray()));
        Assert.Equal(JsonValueKind.Array, m.Payload.ValueKind);
        Assert.Equal(3, m.Payload.GetArrayLength());
    }
}
