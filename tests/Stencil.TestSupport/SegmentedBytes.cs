using System.Buffers;

namespace Stencil.TestSupport;

/// <summary>
/// Bytes as a multi-segment ReadOnlySequence, as a pipe hands over what arrived in several reads: for
/// decoders whose header, line end or payload may straddle segments.
/// </summary>
public static class SegmentedBytes
{
    /// <summary>One segment per piece, in order (no pieces: the empty sequence).</summary>
    public static ReadOnlySequence<byte> Of(IEnumerable<ReadOnlyMemory<byte>> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        Segment? first = null, last = null;
        foreach (var piece in pieces)
            last = last is null ? first = new Segment(piece, 0) : last.Append(piece);
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> cut into segments of at most <paramref name="segmentSize"/> bytes.</summary>
    public static ReadOnlySequence<byte> Of(byte[] bytes, int segmentSize)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segmentSize);
        return Of(Enumerable.Range(0, (bytes.Length + segmentSize - 1) / segmentSize)
            .Select(i => (ReadOnlyMemory<byte>)bytes.AsMemory(i * segmentSize, Math.Min(segmentSize, bytes.Length - (i * segmentSize)))));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
