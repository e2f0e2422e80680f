using System.Buffers;
using System.Text;
using Stencil.Hypervisor.Internal;
using Stencil.TestSupport;

namespace Stencil.Hypervisor.Tests;

/// <summary>QMP framing, message classification and request encoding: pure functions over bytes.</summary>
[Trait("Category", "Unit")]
public sealed class QmpCodecTests
{
    private static ReadOnlySequence<byte> Bytes(string s) => new(Encoding.UTF8.GetBytes(s));

    /// <summary>A sequence split into one-byte segments: a line end may fall on any boundary.</summary>
    private static ReadOnlySequence<byte> Fragmented(string s) => SegmentedBytes.Of(Encoding.UTF8.GetBytes(s), 1);

    [Fact]
    public void Lines_are_split_on_newline_and_lose_their_carriage_return()
    {
        foreach (var buffer0 in new[] { Bytes("{\"a\":1}\r\n{\"b\":2}\n{\"c\""), Fragmented("{\"a\":1}\r\n{\"b\":2}\n{\"c\"") })
        {
            var buffer = buffer0;
            Assert.True(QmpFraming.TryReadLine(ref buffer, 1024, out var line));
            Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(line.ToArray()));
            Assert.True(QmpFraming.TryReadLine(ref buffer, 1024, out line));
            Assert.Equal("{\"b\":2}", Encoding.UTF8.GetString(line.ToArray()));
            Assert.False(QmpFraming.TryReadLine(ref buffer, 1024, out _));
            Assert.Equal("{\"c\"", Encoding.UTF8.GetString(buffer.ToArray()));
        }
    }

    [Fact]
    public void A_line_over_the_limit_is_refused_before_its_end_arrives()
    {
        var partial = Bytes(new string('x', 65));
        Assert.Throws<InvalidDataException>(() => QmpFraming.TryReadLine(ref partial, 64, out _));
        var complete = Bytes(new string('x', 65) + "\n");
        Assert.Throws<InvalidDataException>(() => QmpFraming.TryReadLine(ref complete, 64, out _));
        var fits = Bytes(new string('x', 64));
        Assert.False(QmpFraming.TryReadLine(ref fits, 64, out _));
    }

    [Fact]
    public void Greeting_carries_the_version()
    {
        var m = QmpMessage.Parse(Bytes("""{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}"""));
        Assert.Equal(QmpMessageKind.Greeting, m.Kind);
        Assert.Equal("7.2.22", QmpMessage.GreetingVersion(m.Payload));
    }

    [Fact]
    public void Return_error_and_event_are_told_apart()
    {
        var ret = QmpMessage.Parse(Bytes("""{"return": {"status": "running"}, "id": 7}"""));
        Assert.Equal(QmpMessageKind.Return, ret.Kind);
        Assert.Equal(7, ret.Id);
        Assert.Equal("running", ret.Payload.GetProperty("status").GetString());

        var err = QmpMessage.Parse(Bytes("""{"id": 8, "error": {"class": "DeviceNotFound", "desc": "Device 'x' not found"}}"""));
        Assert.Equal(QmpMessageKind.Error, err.Kind);
        Assert.Equal(8, err.Id);
        Assert.Equal("DeviceNotFound", err.ErrorClass);
        Assert.Equal("Device 'x' not found", err.ErrorDescription);

        var ev = QmpMessage.Parse(Bytes("""{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "DEVICE_DELETED", "data": {"device": "disk1"}}"""));
        Assert.Equal(QmpMessageKind.Event, ev.Kind);
        Assert.Equal("DEVICE_DELETED", ev.EventName);
        Assert.Equal("disk1", ev.Payload.GetProperty("device").GetString());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddMilliseconds(250), ev.Timestamp);

        var bare = QmpMessage.Parse(Bytes("""{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}"""));
        Assert.Equal(System.Text.Json.JsonValueKind.Undefined, bare.Payload.ValueKind);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"hello\": 1}")]
    public void Anything_else_is_a_protocol_error(string line) =>
        Assert.Throws<InvalidDataException>(() => QmpMessage.Parse(Bytes(line)));

    // Found by the fuzzer (tests/Stencil.Reliability): these escaped QmpMessage.Parse as
    // InvalidOperationException or ArgumentOutOfRangeException, not the InvalidDataException it documents.
    [Fact]
    public void Bytes_that_are_not_UTF8_are_a_protocol_error()
    {
        byte[] line = [.. Encoding.UTF8.GetBytes("{\"error\": {\"class\": \"Dev"), 0xff, .. Encoding.UTF8.GetBytes("\", \"desc\": \"x\"}, \"id\": 7}")];
        var ex = Assert.Throws<InvalidDataException>(() => QmpMessage.Parse(new ReadOnlySequence<byte>(line)));
        Assert.Equal("QMP message is not text: byte 24 is not valid UTF-8", ex.Message);
    }

    [Theory]
    [InlineData("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Devi\\ud800ce\"}, \"id\": 7}", "\\ud800 at byte 49")]
    [InlineData("{\"event\": \"\\udc00\", \"data\": {}}", "\\udc00 at byte 11")]
    // In a property name: the greeting's version lookup (TryGetProperty) failed on it.
    [InlineData("{\"QMP\": {\"ve\\ud800rsion\": {}, \"capabilities\": []}}", "\\ud800 at byte 12")]
    public void A_lone_surrogate_escape_is_a_protocol_error(string line, string where)
    {
        var ex = Assert.Throws<InvalidDataException>(() => QmpMessage.Parse(Bytes(line)));
        Assert.Equal($"QMP message is not text: the escape {where} is half of a UTF-16 surrogate pair, not text", ex.Message);
    }

    // Also found by the fuzzer: a number member that is a string made TryGetInt64/TryGetInt32 throw
    // InvalidOperationException (the kind is now checked first).
    [Fact]
    public void A_timestamp_or_version_number_that_is_a_string_is_ignored_not_thrown()
    {
        var message = QmpMessage.Parse(Bytes("{\"timestamp\": {\"seconds\": \"timestamp\", \"microseconds\": 123456}, \"event\": \"DEVICE_DELETED\"}"));
        Assert.Equal(default, message.Timestamp);
        var greeting = QmpMessage.Parse(Bytes("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 19, \"minor\": \"2\", \"major\": 7}}, \"capabilities\": []}}"));
        Assert.Null(QmpMessage.GreetingVersion(greeting.Payload));
        var reply = QmpMessage.Parse(Bytes("{\"return\": {}, \"id\": \"7\"}"));
        Assert.Null(reply.Id);
    }

    [Theory]
    [InlineData(1733390033390000, 123456)]
    [InlineData(1733390000, 1000000)]
    [InlineData(1733390000, 9223372036854775807)]
    public void An_event_timestamp_out_of_range_is_left_unset(long seconds, long microseconds)
    {
        var message = QmpMessage.Parse(Bytes($"{{\"timestamp\": {{\"seconds\": {seconds}, \"microseconds\": {microseconds}}}, \"event\": \"SHUTDOWN\"}}"));
        Assert.Equal(QmpMessageKind.Event, message.Kind);
        Assert.Equal("SHUTDOWN", message.EventName);
        Assert.Equal(default, message.Timestamp);
    }

    [Fact]
    public void Request_encoding()
    {
        Assert.Equal("{\"execute\":\"query-status\",\"id\":1}\n", Encoding.UTF8.GetString(QmpRequest.Encode("query-status", 1, null)));
        Assert.Equal(
            "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"disk\\u00221\"},\"id\":42}\n",
            Encoding.UTF8.GetString(QmpRequest.Encode("device_del", 42, w => w.WriteString("id", "disk\"1"))));
    }

    [Fact]
    public void Error_classes_map_to_kinds_and_the_message_names_command_and_desc()
    {
        var generic = QmpErrors.FromReply("device_add", "GenericError", "Bus 'rp9' not found");
        Assert.Equal(ErrorKind.Internal, generic.Kind);
        Assert.Equal("qemu command 'device_add' failed: Bus 'rp9' not found", generic.Message);
        Assert.Equal(ErrorKind.NotFound, QmpErrors.FromReply("device_del", "DeviceNotFound", "x").Kind);
        Assert.Equal(ErrorKind.Unimplemented, QmpErrors.FromReply("nope", "CommandNotFound", "x").Kind);
        Assert.Contains("(CommandNotFound)", QmpErrors.FromReply("nope", "CommandNotFound", "x").Message);
    }
}
