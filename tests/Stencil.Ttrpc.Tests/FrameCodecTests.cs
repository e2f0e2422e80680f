using System.Buffers;
using Google.Protobuf;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>The frame codec against byte vectors written out by hand from the ttRPC 1.1 layout.</summary>
[Trait("Category", "Unit")]
public class FrameCodecTests
{
    // Request{service "a", method "b", payload 01 02, timeout_nano 1000, metadata [{k, v}]}, 21 bytes.
    private const string RequestPayloadHex = "0a0161 120162 1a020102 20e807 2a06 0a016b 120176";
    private const string RequestFrameHex = "00000015 00000003 01 00 " + RequestPayloadHex;

    private static Request SampleRequest() => new()
    {
        Service = "a",
        Method = "b",
        Payload = ByteString.CopyFrom(1, 2),
        TimeoutNano = 1000,
        Metadata = { new KeyValue { Key = "k", Value = "v" } },
    };

    [Fact]
    public void WriteHeader_lays_out_length_stream_type_flags_big_endian()
    {
        var bytes = new byte[FrameCodec.HeaderLength];
        FrameCodec.WriteHeader(bytes, new FrameHeader(0x01020304, 0xA0B0C0D1, FrameType.Response, 0x7F));
        Assert.Equal(Bytes.Hex("01020304 a0b0c0d1 02 7f"), bytes);
    }

    [Fact]
    public void ReadHeader_is_the_inverse_of_WriteHeader()
    {
        var header = FrameCodec.ReadHeader(Bytes.Hex("00400000 ffffffff 01 00"));
        Assert.Equal(new FrameHeader(FrameCodec.MaxPayloadLength, uint.MaxValue, FrameType.Request, 0), header);
    }

    [Fact]
    public void Writer_encodes_a_request_frame_to_the_known_bytes()
    {
        var output = new ArrayBufferWriter<byte>();
        var request = SampleRequest();
        FrameWriter.Write(output, new OutboundFrame(3, FrameType.Request, request, request.CalculateSize()));
        Assert.Equal(Bytes.Hex(RequestFrameHex), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_request_frame_decodes_to_its_header_and_payload()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex(RequestFrameHex));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.Frame, frame.Kind);
        Assert.Equal(new FrameHeader(21, 3, FrameType.Request, 0), frame.Header);
        Assert.Equal(SampleRequest(), Request.Parser.ParseFrom(frame.Payload));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_response_frame_with_a_status_decodes()
    {
        // Response{status{code 5, message "x"}}: field 1, 5 bytes: code 5, message "x".
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("00000007 00000001 02 00 0a05 0805 120178"));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameType.Response, frame.Header.Type);
        var response = Response.Parser.ParseFrom(frame.Payload);
        Assert.Equal(new Status { Code = 5, Message = "x" }, response.Status);
    }

    [Fact]
    public void An_empty_payload_is_a_whole_frame()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("00000000 00000009 02 00"));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.Frame, frame.Kind);
        Assert.True(frame.Payload.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Back_to_back_frames_decode_one_at_a_time_in_order()
    {
        var bytes = Bytes.Hex(RequestFrameHex + "00000000 00000005 01 00" + RequestFrameHex.Replace("00000003", "00000007", StringComparison.Ordinal));
        var buffer = new ReadOnlySequence<byte>(bytes);
        var ids = new List<uint>();
        while (FrameCodec.TryReadFrame(ref buffer, out var frame))
            ids.Add(frame.Header.StreamId);
        Assert.Equal([3u, 5u, 7u], ids);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Every_proper_prefix_of_a_frame_is_incomplete_and_left_untouched()
    {
        var bytes = Bytes.Hex(RequestFrameHex);
        for (var n = 0; n < bytes.Length; n++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, n);
            Assert.False(FrameCodec.TryReadFrame(ref buffer, out _));
            Assert.Equal(n, buffer.Length);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(11)]
    public void A_frame_split_across_segments_decodes_like_a_contiguous_one(int segmentSize)
    {
        var buffer = Bytes.Segmented(Bytes.Hex(RequestFrameHex + RequestFrameHex), segmentSize);
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var first));
        Assert.Equal(SampleRequest(), Request.Parser.ParseFrom(first.Payload));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var second));
        Assert.Equal(SampleRequest(), Request.Parser.ParseFrom(second.Payload));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_payload_of_exactly_the_maximum_is_a_frame_and_waits_for_its_body()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("00400000 00000001 01 00"));
        Assert.False(FrameCodec.TryReadFrame(ref buffer, out _));
        Assert.Equal(FrameReadKind.Frame, FrameCodec.Classify(new FrameHeader(FrameCodec.MaxPayloadLength, 1, FrameType.Request, 0)));
    }

    [Theory]
    [InlineData("00400001 00000001 01 00", 0x400001u)]
    [InlineData("ffffffff 00000003 02 00", 0xffffffffu)]
    public void An_oversized_header_is_reported_at_once_and_only_the_header_is_consumed(string hex, uint length)
    {
        // No body follows: the decision is made on the header alone, before any payload is waited for.
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex(hex + " aabb"));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.Oversized, frame.Kind);
        Assert.Equal(length, frame.Header.Length);
        Assert.Equal(2, buffer.Length);
        Assert.Equal($"message length {length} exceeds maximum message size of 4194304", FrameCodec.OversizedMessage(length));
    }

    [Theory]
    [InlineData("00000004 00000005 03 00", 3)]
    [InlineData("00000000 00000005 00 00", 0)]
    [InlineData("00400000 00000005 ff 01", 255)]
    public void An_unknown_type_with_a_plausible_length_is_skippable(string hex, byte type)
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex(hex));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.UnsupportedType, frame.Kind);
        Assert.Equal(type, (byte)frame.Header.Type);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData("00000006 00000000 01 00", "stream id 0 is never used by ttRPC")]
    [InlineData("00400001 00000001 05 00", "unknown frame type 0x05 with length 4194305 over the maximum of 4194304")]
    public void A_garbage_header_is_malformed_and_nothing_is_consumed(string hex, string why)
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex(hex));
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.Malformed, frame.Kind);
        Assert.Equal(FrameCodec.HeaderLength, buffer.Length);
        Assert.Equal($"malformed ttRPC frame header {Convert.ToHexString(Bytes.Hex(hex))}: {why}",
            FrameCodec.MalformedMessage(frame.Header));
    }

    [Fact]
    public void Someone_speaking_http_is_malformed()
    {
        var buffer = new ReadOnlySequence<byte>("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.True(FrameCodec.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(FrameReadKind.Malformed, frame.Kind);
        Assert.Equal("malformed ttRPC frame header 474554202F2048545450: unknown frame type 0x54 with length 1195725856 over the maximum of 4194304",
            FrameCodec.MalformedMessage(frame.Header));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Skip_consumes_at_most_what_remains_across_segments(int segmentSize)
    {
        var buffer = Bytes.Segmented(new byte[10], segmentSize);
        long remaining = 25;
        Assert.False(FrameCodec.Skip(ref buffer, ref remaining));
        Assert.Equal(15, remaining);
        Assert.True(buffer.IsEmpty);

        buffer = Bytes.Segmented(new byte[20], segmentSize);
        Assert.True(FrameCodec.Skip(ref buffer, ref remaining));
        Assert.Equal(0, remaining);
        Assert.Equal(5, buffer.Length);
    }
}
