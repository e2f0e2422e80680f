using System.Buffers;
using System.Buffers.Binary;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// ttRPC 1.1 framing as pure functions over bytes: no I/O, no state, no allocation.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------------------------------------------------------+
/// |                 Payload length (32, big endian)               |
/// +---------------------------------------------------------------+
/// |                   Stream id (32, big endian)                  |
/// +---------------+---------------+-------------------------------+
/// |   Type (8)    |   Flags (8)   |  Payload (length bytes) ...   |
/// +---------------+---------------+-------------------------------+
/// </code>
/// Type 1 carries a ttrpc.Request, type 2 a ttrpc.Response; flags are 0 in 1.1 (1.2 uses them for
/// streams, so they are carried but never interpreted). The payload limit is containerd/ttrpc's
/// messageLengthMax, and it is checked on the header alone, before any payload is waited for.
/// </summary>
internal static class FrameCodec
{
    public const int HeaderLength = 10;
    public const int MaxPayloadLength = 4 << 20;

    private const int LengthOffset = 0;
    private const int StreamIdOffset = 4;
    private const int TypeOffset = 8;
    private const int FlagsOffset = 9;

    /// <summary>
    /// Decodes what starts <paramref name="buffer"/>. Returns false when more bytes are needed (the
    /// buffer is then untouched); otherwise advances the buffer past what the result consumed (see
    /// <see cref="FrameReadKind"/>). A false return never asks for more than one header plus
    /// <see cref="MaxPayloadLength"/> bytes, so a reader never buffers beyond that.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out FrameReadResult result)
    {
        if (!TryReadHeader(buffer, out var header))
        {
            result = default;
            return false;
        }

        var kind = Classify(header);
        switch (kind)
        {
            case FrameReadKind.Frame:
                if (buffer.Length - HeaderLength < header.Length)
                {
                    result = default;
                    return false;
                }
                var payload = buffer.Slice(HeaderLength, header.Length);
                buffer = buffer.Slice(payload.End);
                result = new FrameReadResult(kind, header, payload);
                return true;
            case FrameReadKind.Oversized:
            case FrameReadKind.UnsupportedType:
                buffer = buffer.Slice(HeaderLength);
                result = new FrameReadResult(kind, header, ReadOnlySequence<byte>.Empty);
                return true;
            default:
                result = new FrameReadResult(kind, header, ReadOnlySequence<byte>.Empty);
                return true;
        }
    }

    /// <summary>Reads the header at the start of <paramref name="buffer"/> without consuming it.</summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header)
    {
        if (buffer.Length < HeaderLength)
        {
            header = default;
            return false;
        }
        var first = buffer.FirstSpan;
        if (first.Length >= HeaderLength)
        {
            header = ReadHeader(first);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[HeaderLength];
            buffer.Slice(0, HeaderLength).CopyTo(bytes);
            header = ReadHeader(bytes);
        }
        return true;
    }

    public static FrameHeader ReadHeader(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt32BigEndian(bytes[LengthOffset..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[StreamIdOffset..]),
        (FrameType)bytes[TypeOffset],
        bytes[FlagsOffset]);

    public static void WriteHeader(Span<byte> destination, in FrameHeader header)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination[LengthOffset..], header.Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[StreamIdOffset..], header.StreamId);
        destination[TypeOffset] = (byte)header.Type;
        destination[FlagsOffset] = header.Flags;
    }

    public static FrameReadKind Classify(in FrameHeader header)
    {
        var knownType = header.Type is FrameType.Request or FrameType.Response;
        var fits = header.Length <= MaxPayloadLength;
        // ttRPC never uses stream 0: client streams are odd from 1, 1.2's server streams even from 2.
        if (header.StreamId == 0 || (!knownType && !fits))
            return FrameReadKind.Malformed;
        if (!knownType)
            return FrameReadKind.UnsupportedType;
        return fits ? FrameReadKind.Frame : FrameReadKind.Oversized;
    }

    /// <summary>
    /// Consumes up to <paramref name="remaining"/> bytes of <paramref name="buffer"/> (the body of a
    /// frame being skipped) and returns true when nothing is left to skip.
    /// </summary>
    public static bool Skip(ref ReadOnlySequence<byte> buffer, ref long remaining)
    {
        var n = Math.Min(buffer.Length, remaining);
        buffer = buffer.Slice(n);
        remaining -= n;
        return remaining == 0;
    }

    /// <summary>The status message containerd/ttrpc sends for an oversized frame (same numbers, same order).</summary>
    public static string OversizedMessage(uint length) =>
        $"message length {length} exceeds maximum message size of {MaxPayloadLength}";

    /// <summary>Why a <see cref="FrameReadKind.Malformed"/> header closes the connection, with its bytes.</summary>
    public static string MalformedMessage(in FrameHeader header)
    {
        Span<byte> bytes = stackalloc byte[HeaderLength];
        WriteHeader(bytes, header);
        var why = header.StreamId == 0
            ? "stream id 0 is never used by ttRPC"
            : $"unknown frame type 0x{(byte)header.Type:x2} with length {header.Length} over the maximum of {MaxPayloadLength}";
        return $"malformed ttRPC frame header {Convert.ToHexString(bytes)}: {why}";
    }
}
