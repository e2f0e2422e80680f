using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using Stencil.Ttrpc.Wire;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// One connection of a <see cref="TtrpcServer"/>: a receive pump that dispatches each request to the
/// thread pool (a handler that blocks for minutes holds up nobody), and a send pump that writes the
/// answers in whatever order they finish.
/// </summary>
internal sealed class ServerConnection : IFrameHandler, IDisposable
{
    private static readonly KeyValuePair<string, string>[] s_noMetadata = [];

    private readonly TtrpcServer _server;
    private readonly Stream _stream;
    private readonly CancellationTokenSource _closing;
    private readonly FrameWriter _writer = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Requests in flight, plus one for the receive pump, so zero means "nothing left to wait for".
    private int _active = 1;

    public ServerConnection(TtrpcServer server, Stream stream, CancellationToken cancellationToken)
    {
        _server = server;
        _stream = stream;
        _closing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>Serves until the peer closes, the stream fails, a malformed header arrives, or the
    /// token fires; then cancels the handlers still running, waits for them, and disposes the
    /// stream. Returns why the connection ended.</summary>
    public async Task<string> RunAsync()
    {
        var input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        var output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        // Disposing the stream is what ends a read on a stream that ignores cancellation.
        using var disposeOnClose = _closing.Token.Register(static s => ((Stream)s!).Dispose(), _stream);
        var writeLoop = Task.Run(() => WriteLoopAsync(output));

        var reason = await FrameReader.RunAsync(input, this, frameTimeout: null, _closing.Token).ConfigureAwait(false);

        // As containerd/ttrpc does: once the client is gone, running handlers are cancelled and their
        // answers have nowhere to go.
        _closing.Cancel();
        _writer.Complete();
        await input.CompleteAsync().ConfigureAwait(false);
        if (Interlocked.Decrement(ref _active) != 0)
            await _drained.Task.ConfigureAwait(false);
        await writeLoop.ConfigureAwait(false);
        _stream.Dispose();
        return reason;
    }

    public void Dispose() => _closing.Dispose();

    public void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.Type != FrameType.Request)
            return; // containerd/ttrpc ignores responses sent to a server; answering could ping-pong
        var streamId = header.StreamId;
        if (streamId % 2 == 0)
        {
            Reply(streamId, StatusMapping.ToStatus(RpcCode.InvalidArgument,
                $"ttrpc request on stream {streamId}: client-initiated stream ids must be odd"));
            return;
        }
        Request request;
        try
        {
            request = Request.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            Reply(streamId, StatusMapping.ToStatus(RpcCode.InvalidArgument,
                $"ttrpc request on stream {streamId} ({header.Length} bytes) cannot be decoded: {ex.Message}"));
            return;
        }
        Interlocked.Increment(ref _active);
        _ = Task.Run(() => HandleAsync(streamId, request));
    }

    public string? OnRejected(in FrameHeader header, FrameReadKind kind) => null; // skipped, then answered

    public void OnSkipped(in FrameHeader header, FrameReadKind kind)
    {
        if (kind == FrameReadKind.Oversized && header.Type == FrameType.Request)
            Reply(header.StreamId, StatusMapping.ToStatus(RpcCode.ResourceExhausted, FrameCodec.OversizedMessage(header.Length)));
        else if (kind == FrameReadKind.UnsupportedType)
            Reply(header.StreamId, StatusMapping.ToStatus(RpcCode.Unimplemented,
                $"unsupported ttRPC frame type 0x{(byte)header.Type:x2} on stream {header.StreamId}: ttRPC 1.1 knows request (1) and response (2)"));
    }

    private async Task WriteLoopAsync(PipeWriter output)
    {
        var failure = await _writer.RunAsync(output, _closing.Token).ConfigureAwait(false);
        if (failure is not null)
            _closing.Cancel();
    }

    private async Task HandleAsync(uint streamId, Request request)
    {
        try
        {
            var response = await InvokeAsync(request).ConfigureAwait(false);
            var size = response.CalculateSize();
            if (size > FrameCodec.MaxPayloadLength)
            {
                response = new Response
                {
                    Status = StatusMapping.ToStatus(RpcCode.ResourceExhausted,
                        $"{request.Service}.{request.Method}: response is {size} bytes, over the maximum message size of {FrameCodec.MaxPayloadLength}"),
                };
                size = response.CalculateSize();
            }
            _writer.TryEnqueue(new OutboundFrame(streamId, FrameType.Response, response, size));
        }
        finally
        {
            if (Interlocked.Decrement(ref _active) == 0)
                _drained.TrySetResult();
        }
    }

    private async Task<Response> InvokeAsync(Request request)
    {
        var handler = _server.Lookup(request.Service, request.Method, out var unknown);
        if (handler is null)
            return new Response { Status = unknown };

        var token = _closing.Token;
        DateTimeOffset? deadline = null;
        CancellationTokenSource? deadlineSource = null;
        CancellationTokenSource? linked = null;
        if (request.TimeoutNano != 0)
        {
            // A negative timeout (a deadline already past when the client sent it) fires at once.
            var timeout = TimeSpan.FromTicks(Math.Max(0, request.TimeoutNano / TimeSpan.NanosecondsPerTick));
            deadline = DateTimeOffset.UtcNow + timeout;
            // A CancellationTokenSource timer takes at most uint.MaxValue - 1 ms (49 days); beyond that,
            // the deadline is reported but never fires.
            if (timeout.TotalMilliseconds < uint.MaxValue - 1)
            {
                deadlineSource = new CancellationTokenSource(timeout);
                linked = CancellationTokenSource.CreateLinkedTokenSource(token, deadlineSource.Token);
                token = linked.Token;
            }
        }
        try
        {
            var metadata = request.Metadata.Count == 0
                ? s_noMetadata
                : request.Metadata.Select(static kv => KeyValuePair.Create(kv.Key, kv.Value)).ToArray();
            var result = await handler.InvokeAsync(request.Payload, new TtrpcCallContext(metadata, deadline, token)).ConfigureAwait(false);
            // containerd/ttrpc always sends a status, code 0 on success; so does this server.
            return new Response { Status = new Status(), Payload = result.ToByteString() };
        }
        catch (Exception ex)
        {
            return new Response
            {
                Status = StatusMapping.FromException(ex, handler.FullName, deadlineSource?.IsCancellationRequested == true),
            };
        }
        finally
        {
            linked?.Dispose();
            deadlineSource?.Dispose();
        }
    }

    private void Reply(uint streamId, Status status)
    {
        var response = new Response { Status = status };
        _writer.TryEnqueue(new OutboundFrame(streamId, FrameType.Response, response, response.CalculateSize()));
    }
}
