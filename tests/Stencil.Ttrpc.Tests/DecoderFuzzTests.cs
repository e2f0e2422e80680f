using System.Buffers;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>
/// Random and damaged input to the decoder: it may only answer "incomplete", a frame within the
/// limit, a skippable header, or "malformed"; it never throws, always makes progress, and never
/// allocates (so it cannot allocate beyond the limit whatever a header claims).
/// </summary>
[Trait("Category", "Unit")]
public class DecoderFuzzTests
{
    private const int Iterations = 20_000;

    [Fact]
    public void Random_bytes_never_throw_nor_allocate()
    {
        var random = new Random(1234);
        var inputs = new List<ReadOnlySequence<byte>>();
        for (var i = 0; i < Iterations; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            // Bias toward plausible headers so every branch is reached, not only "malformed".
            if (bytes.Length >= FrameCodec.HeaderLength && random.Next(3) > 0)
            {
                // Lengths around the limit, or short enough to fit in the input.
                var length = random.Next(2) == 0
                    ? random.Next(0, 2 * FrameCodec.MaxPayloadLength)
                    : random.Next(0, bytes.Length - FrameCodec.HeaderLength + 1);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, length);
                bytes[8] = (byte)random.Next(0, 4);
            }
            inputs.Add(Bytes.Segmented(bytes, random.Next(1, 16)));
        }
        DecodeAll(inputs);
    }

    [Fact]
    public void Truncated_and_mutated_valid_streams_never_throw_nor_allocate()
    {
        var random = new Random(5678);
        var inputs = new List<ReadOnlySequence<byte>>();
        for (var i = 0; i < Iterations / 4; i++)
        {
            var stream = ValidStream(random);
            var length = random.Next(0, stream.Length + 1);
            var bytes = stream[..length];
            for (var flips = random.Next(0, 3); flips > 0 && bytes.Length > 0; flips--)
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            inputs.Add(Bytes.Segmented(bytes, random.Next(1, 32)));
        }
        DecodeAll(inputs);
    }

    [Fact]
    public void Undamaged_streams_decode_to_exactly_the_frames_written()
    {
        var random = new Random(91011);
        for (var i = 0; i < 500; i++)
        {
            var bytes = ValidStream(random, out var expected);
            var buffer = Bytes.Segmented(bytes, random.Next(1, 64));
            var decoded = new List<Request>();
            while (FrameCodec.TryReadFrame(ref buffer, out var frame))
            {
                Assert.Equal(FrameReadKind.Frame, frame.Kind);
                decoded.Add(Request.Parser.ParseFrom(frame.Payload));
            }
            Assert.True(buffer.IsEmpty);
            Assert.Equal(expected, decoded);
        }
    }

    private static void DecodeAll(List<ReadOnlySequence<byte>> inputs)
    {
        // A first pass gets the JIT's own allocations out of the way.
        foreach (var input in inputs)
            Decode(input, new int[4]);
        var results = new int[4];
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var input in inputs)
            Decode(input, results);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The decoder allocates nothing; the runtime may still allocate a little on this thread (tiering
        // stubs). Less than one byte per input cannot be an allocation per frame, let alone per claimed length.
        Assert.True(allocated < inputs.Count, $"{allocated} bytes allocated decoding {inputs.Count} inputs");
        // Every outcome was reached at least once, so the loop proved something about each.
        Assert.All(results, count => Assert.True(count > 0, $"outcome counts {string.Join(",", results)}"));
    }

    private static void Decode(ReadOnlySequence<byte> buffer, int[] results)
    {
        long skip = 0;
        while (true)
        {
            if (skip > 0 && !FrameCodec.Skip(ref buffer, ref skip))
                return;
            var before = buffer.Length;
            if (!FrameCodec.TryReadFrame(ref buffer, out var frame))
            {
                if (buffer.Length != before)
                    throw new InvalidOperationException("incomplete input was consumed");
                return;
            }
            results[(int)frame.Kind]++;
            switch (frame.Kind)
            {
                case FrameReadKind.Frame:
                    if (frame.Payload.Length > FrameCodec.MaxPayloadLength || frame.Payload.Length != frame.Header.Length)
                        throw new InvalidOperationException($"payload of {frame.Payload.Length} bytes for {frame.Header}");
                    if (before - buffer.Length != FrameCodec.HeaderLength + frame.Payload.Length)
                        throw new InvalidOperationException("frame consumed the wrong number of bytes");
                    break;
                case FrameReadKind.Oversized:
                case FrameReadKind.UnsupportedType:
                    if (before - buffer.Length != FrameCodec.HeaderLength)
                        throw new InvalidOperationException("a skippable header consumed more than itself");
                    skip = frame.Header.Length;
                    break;
                case FrameReadKind.Malformed:
                    return;
            }
        }
    }

    private static byte[] ValidStream(Random random) => ValidStream(random, out _);

    private static byte[] ValidStream(Random random, out List<Request> requests)
    {
        requests = [];
        var output = new ArrayBufferWriter<byte>();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            var payload = new byte[random.Next(0, 200)];
            random.NextBytes(payload);
            var request = new Request
            {
                Service = "svc" + random.Next(10),
                Method = "m",
                Payload = Google.Protobuf.ByteString.CopyFrom(payload),
                TimeoutNano = random.Next(),
            };
            requests.Add(request);
            FrameWriter.Write(output, new OutboundFrame((uint)(2 * random.Next(0, 1000) + 1), FrameType.Request, request, request.CalculateSize()));
        }
        return output.WrittenSpan.ToArray();
    }
}
