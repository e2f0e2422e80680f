using System.Buffers;
using Stencil.TestSupport;

namespace Stencil.Ttrpc.Tests;

/// <summary>Byte-vector helpers: hex in, sequences split into segments of any size out.</summary>
internal static class Bytes
{
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>The bytes as a ReadOnlySequence of segments of at most <paramref name="segmentSize"/>
    /// bytes, to exercise the paths where a header or payload straddles segments.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentSize) => SegmentedBytes.Of(bytes, segmentSize);
}
