using System.Buffers;
using Stencil.TestSupport;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>Input as a socket delivers it: in segments of random size, and arriving a piece at a time.</summary>
internal static class Chunks
{
    /// <summary><paramref name="bytes"/> as a sequence of 1 to 16 segments cut at random places (one segment without <paramref name="random"/>).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, Random? random)
    {
        var cuts = Cuts(bytes.Length, random);
        return SegmentedBytes.Of(Enumerable.Range(0, cuts.Count - 1).Select(i => (ReadOnlyMemory<byte>)bytes.AsMemory(cuts[i], cuts[i + 1] - cuts[i])));
    }

    /// <summary>Growing prefixes of <paramref name="sequence"/> (what has arrived so far), the last one whole (only that one without <paramref name="random"/>).</summary>
    public static IEnumerable<ReadOnlySequence<byte>> Prefixes(ReadOnlySequence<byte> sequence, Random? random)
    {
        foreach (var end in Cuts((int)sequence.Length, random).Skip(1))
            yield return sequence.Slice(0, end);
    }

    /// <summary>0, a few sorted cut points, and <paramref name="length"/>.</summary>
    private static List<int> Cuts(int length, Random? random)
    {
        var points = new SortedSet<int> { 0, length };
        for (var n = random?.Next(16) ?? 0; n > 0 && length > 1; n--)
            points.Add(random!.Next(1, length));
        return [.. points];
    }

}
