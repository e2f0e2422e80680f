using System.Buffers;
using Google.Protobuf;
using Stencil.Ttrpc.Internal;
using Stencil.Ttrpc.Wire;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>
/// A ttRPC byte stream through the receive pump both ends share (<see cref="FrameReader"/> over
/// <see cref="FrameCodec"/>), arriving in random pieces, with a handler that decodes what a server and a
/// client decode: a Request (service, method, payload into a typed message, deadline, metadata) and a
/// Response (status mapped to an exception, payload). FrameReader never throws: it returns why it
/// stopped, and "internal error" is how it reports a handler that threw, which is a crash here.
/// </summary>
public sealed class TtrpcDecoderTarget : IFuzzTarget
{
    public string Name => "ttrpc";

    public IReadOnlyList<byte[]> Seeds { get; } =
    [
        Frames(
            (1, FrameType.Request, new Request
            {
                Service = "containerd.task.v2.Task", Method = "Create", TimeoutNano = 30_000_000_000,
                Payload = ByteString.CopyFromUtf8("\n\u0003abc\u0012\u0010/run/bundle/abc"),
                Metadata = { new KeyValue { Key = "containerd-namespace", Value = "default" } },
            }.ToByteArray()),
            (3, FrameType.Request, new Request { Service = "containerd.task.v2.Task", Method = "State", Payload = ByteString.CopyFromUtf8("\n\u0003abc") }.ToByteArray())),
        Frames(
            (1, FrameType.Response, new Response { Status = new Status(), Payload = ByteString.CopyFrom(1, 2, 3) }.ToByteArray()),
            (3, FrameType.Response, new Response { Status = new Status { Code = 5, Message = "container \"x\" not found" } }.ToByteArray()),
            (5, FrameType.Response, [])),
        Frames((7, (FrameType)3, [0x0a, 0x00]), (9, FrameType.Request, new Request { Service = "s", Method = "m", TimeoutNano = -1 }.ToByteArray())),
    ];

    public IReadOnlyList<byte[]> Dictionary { get; } =
    [
        [0x00, 0x00, 0x00, 0x00], [0x00, 0x40, 0x00, 0x00], [0x00, 0x40, 0x00, 0x01], [0xff, 0xff, 0xff, 0xff], [0x01], [0x02], [0x03],
        // Protobuf: tags with each wire type, varints at the edges, a length that points past the end.
        [0x0a], [0x12], [0x1a], [0x20], [0x2a], [0x08], [0x0d], [0x09], [0x0b], [0x0c],
        [0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        [0x0a, 0xff, 0xff, 0xff, 0x7f], [0x2a, 0x02, 0x0a, 0x00],
    ];

    public void Run(byte[] input, Random? random)
    {
        var reader = new ReplayPipeReader(Chunks.Segmented(input, random), random);
        var task = FrameReader.RunAsync(reader, new DecodingHandler(), frameTimeout: null, CancellationToken.None);
        // The reader completes every read synchronously, so the pump has finished by now.
        if (!task.IsCompleted)
            throw new InvalidOperationException("the frame reader did not finish over in-memory input");
        var reason = task.Result;
        if (reason.StartsWith("internal error", StringComparison.Ordinal))
            throw new InvalidOperationException($"the frame reader stopped on a handler failure: {reason}");
    }

    public bool IsExpected(Exception exception) => false;

    private static byte[] Frames(params (uint StreamId, FrameType Type, byte[] Payload)[] frames)
    {
        var bytes = new List<byte>();
        Span<byte> header = stackalloc byte[FrameCodec.HeaderLength];
        foreach (var (streamId, type, payload) in frames)
        {
            FrameCodec.WriteHeader(header, new FrameHeader((uint)payload.Length, streamId, type, 0));
            bytes.AddRange(header.ToArray());
            bytes.AddRange(payload);
        }
        return [.. bytes];
    }

    /// <summary>Decodes every frame as the server (requests) and the client (responses) do; refusals are what they catch.</summary>
    private sealed class DecodingHandler : IFrameHandler
    {
        public void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
        {
            try
            {
                if (header.Type == FrameType.Request)
                    ReadRequest(Request.Parser.ParseFrom(payload));
                else
                    ReadResponse(Response.Parser.ParseFrom(payload));
            }
            catch (InvalidProtocolBufferException)
            {
            }
        }

        // As the server and the default client: a rejected frame's body is skipped (the untrusted-peer
        // client stops instead, which needs no decoding).
        public string? OnRejected(in FrameHeader header, FrameReadKind kind) => null;

        public void OnSkipped(in FrameHeader header, FrameReadKind kind)
        {
            if (kind == FrameReadKind.Oversized)
                _ = FrameCodec.OversizedMessage(header.Length);
        }

        private static void ReadRequest(Request request)
        {
            _ = request.Service.Length + request.Method.Length;
            // The server's deadline arithmetic (ServerConnection.InvokeAsync).
            if (request.TimeoutNano != 0)
            {
                var timeout = TimeSpan.FromTicks(Math.Max(0, request.TimeoutNano / TimeSpan.NanosecondsPerTick));
                _ = DateTimeOffset.UtcNow + timeout;
            }
            _ = request.Metadata.Select(static kv => KeyValuePair.Create(kv.Key, kv.Value)).ToArray();
            // The method's own message, merged from the payload as MethodHandler does.
            new KeyValue().MergeFrom(request.Payload);
            _ = request.CalculateSize();
        }

        private static void ReadResponse(Response response)
        {
            if (response.Status is { Code: not 0 } status)
                _ = StatusMapping.ToException(status, "fuzz/Method");
            new Status().MergeFrom(response.Payload);
        }
    }
}
