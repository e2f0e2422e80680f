using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Google.Protobuf;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc;

/// <summary>
/// A ttRPC 1.1 client over one connection. Calls are multiplexed: any number may be in flight, each on
/// its own odd stream id, answered in any order. When the connection is lost every pending call fails
/// with Unavailable and so does every later call; make a new client to reconnect. Its bounds (calls in
/// flight, bytes queued, how long a frame or a write may take, what a protocol violation costs) are
/// set by <see cref="TtrpcClientOptions"/>.
/// </summary>
public sealed class TtrpcClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly TtrpcClientOptions _options;
    private readonly FrameWriter _writer;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, TaskCompletionSource<Response>> _pending = new();
    private readonly Task _readLoop;
    private readonly Task _writeLoop;
    private uint _nextStreamId = 1;
    private bool _streamIdsWrapped;
    private string? _closeReason;

    /// <summary>Speaks ttRPC over <paramref name="stream"/> (a socket, a socket pair, a virtio-serial
    /// port). The client owns the stream and disposes it when the connection closes.</summary>
    public TtrpcClient(Stream stream, TtrpcClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new TtrpcClientOptions();
        options.Validate();
        _options = options;
        _nextStreamId = options.FirstStreamId;
        _writer = new FrameWriter(options.WriteStallTimeout);
        _stream = stream;
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        // Task.Run: a stream whose async methods block (some character devices) must not hold up the caller.
        _readLoop = Task.Run(() => ReadLoopAsync(input));
        _writeLoop = Task.Run(() => WriteLoopAsync(output));
    }

    /// <summary>Completes (never faults) when the connection is lost or the client is disposed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>The stream id the next call gets.</summary>
    public uint NextStreamId
    {
        get
        {
            lock (_lock)
                return _nextStreamId;
        }
    }

    /// <summary>Why the connection closed ("end of stream", "peer stopped reading: ...", "protocol
    /// violation by the peer: ..."); null while it is open.</summary>
    public string? CloseReason
    {
        get
        {
            lock (_lock)
                return _closeReason;
        }
    }

    /// <summary>Calls waiting for a response (tests check that cancelled calls leave no entry).</summary>
    internal int PendingCount
    {
        get
        {
            lock (_lock)
                return _pending.Count;
        }
    }

    /// <summary>Connects to a ttRPC server's unix socket ("unix://" prefix allowed).</summary>
    public static Task<TtrpcClient> ConnectAsync(string unixSocketPath, CancellationToken cancellationToken = default) =>
        ConnectAsync(unixSocketPath, null, cancellationToken);

    /// <summary>Connects to a ttRPC server's unix socket ("unix://" prefix allowed), with these bounds.</summary>
    public static async Task<TtrpcClient> ConnectAsync(string unixSocketPath, TtrpcClientOptions? options, CancellationToken cancellationToken = default)
    {
        var path = UnixSocketPath.Normalize(unixSocketPath);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new StencilException(ErrorKind.Unavailable, $"cannot connect to ttrpc socket {path}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new TtrpcClient(new NetworkStream(socket, ownsSocket: true), options);
    }

    /// <summary>
    /// Calls <paramref name="method"/> and returns its response. Throws StencilException: the server's
    /// status (kind mapped back, the server's message); DeadlineExceeded when
    /// <see cref="TtrpcCallOptions.Timeout"/> passes; Unavailable when the connection is or gets closed;
    /// ResourceExhausted when a message is over 4 MiB, or when <see cref="TtrpcClientOptions.MaxPendingCalls"/>
    /// calls are in flight or <see cref="TtrpcClientOptions.MaxQueuedBytes"/> are waiting to be written;
    /// Internal when the response does not decode. Cancellation throws OperationCanceledException.
    /// </summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        TtrpcMethod<TRequest, TResponse> method,
        TRequest request,
        TtrpcCallOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();

        var wire = new Request { Service = method.Service, Method = method.Name, Payload = request.ToByteString() };
        var timeout = options?.Timeout;
        if (timeout is { } t)
        {
            if (t <= TimeSpan.Zero)
                throw new StencilException(ErrorKind.InvalidArgument, $"ttrpc call {method.FullName}: timeout must be positive, got {t}");
            wire.TimeoutNano = t.Ticks > long.MaxValue / TimeSpan.NanosecondsPerTick ? long.MaxValue : t.Ticks * TimeSpan.NanosecondsPerTick;
        }
        if (options?.Metadata is { } metadata)
        {
            foreach (var pair in metadata)
                wire.Metadata.Add(new KeyValue { Key = pair.Key, Value = pair.Value });
        }
        var size = wire.CalculateSize();
        if (size > FrameCodec.MaxPayloadLength)
            throw new StencilException(ErrorKind.ResourceExhausted,
                $"ttrpc call {method.FullName}: request is {size} bytes, over the maximum message size of {FrameCodec.MaxPayloadLength}");

        var pending = new TaskCompletionSource<Response>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint streamId;
        lock (_lock)
        {
            if (_closeReason is not null)
                throw ConnectionClosed(_closeReason);
            if (_pending.Count >= _options.MaxPendingCalls)
                throw new StencilException(ErrorKind.ResourceExhausted,
                    $"ttrpc call {method.FullName}: {_pending.Count} calls are already waiting for the peer's answer (the limit)");
            var queued = _writer.QueuedBytes;
            if (queued + FrameCodec.HeaderLength + size > _options.MaxQueuedBytes)
                throw new StencilException(ErrorKind.ResourceExhausted,
                    $"ttrpc call {method.FullName}: {queued} bytes of requests are still waiting for the peer to read them; "
                    + $"{FrameCodec.HeaderLength + size} more would pass the limit of {_options.MaxQueuedBytes}");
            // Assigned and queued under one lock, so stream ids reach the wire in increasing order.
            // After 2^31 calls the id wraps to 1 again, as a uint does; a call pending that long collides.
            streamId = _nextStreamId;
            _nextStreamId += 2;
            _streamIdsWrapped |= _nextStreamId < streamId;
            _pending.Add(streamId, pending);
            _writer.TryEnqueue(new OutboundFrame(streamId, FrameType.Request, wire, size));
        }

        Response response;
        try
        {
            response = await WaitAsync(pending.Task, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Forget(streamId);
            throw new StencilException(ErrorKind.DeadlineExceeded,
                $"ttrpc call {method.FullName}: no response within the timeout of {timeout}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Forget(streamId);
            throw;
        }

        if (response.Status is { Code: not 0 } status)
            throw StatusMapping.ToException(status, method.FullName);
        var result = new TResponse();
        try
        {
            result.MergeFrom(response.Payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            var error = new StencilException(ErrorKind.Internal,
                $"ttrpc call {method.FullName}: response payload of {response.Payload.Length} bytes is not a {typeof(TResponse).Name}: {ex.Message}", ex);
            if (_options.CloseOnProtocolViolation)
                Close(Violation(error.Message));
            throw error;
        }
        return result;
    }

    /// <summary>
    /// Closes the connection because of what the caller found in a response (a reply that breaks a
    /// contract above ttRPC: a field out of range, more data than asked for). Pending and later calls
    /// fail with Unavailable and "protocol violation by the peer: <paramref name="why"/>". Safe to call twice.
    /// </summary>
    public void Abort(string why) => Close(Violation(why));

    private static string Violation(string why) => $"protocol violation by the peer: {why}";

    /// <summary>
    /// Closes the connection for a reason of the caller's that is no protocol violation (a peer that stopped
    /// answering): pending and later calls fail with Unavailable and <paramref name="reason"/>, which
    /// <see cref="CloseReason"/> then gives. Safe to call twice.
    /// </summary>
    public void Disconnect(string reason) => Close(reason);

    /// <summary>Closes the connection; pending calls fail with Unavailable. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        Close("client disposed");
        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private static Task<Response> WaitAsync(Task<Response> task, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        // Task.WaitAsync takes at most uint.MaxValue - 1 ms; a longer timeout is no local timeout at all.
        if (timeout is { } t && t.TotalMilliseconds < uint.MaxValue - 1)
            return task.WaitAsync(t, cancellationToken);
        return cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task;
    }

    private void Forget(uint streamId)
    {
        // The server may still answer; OnFrame then finds no entry and drops the response.
        lock (_lock)
            _pending.Remove(streamId);
    }

    private static StencilException ConnectionClosed(string reason) =>
        new(ErrorKind.Unavailable, $"ttrpc connection closed: {reason}");

    private async Task ReadLoopAsync(PipeReader input)
    {
        var reason = await FrameReader.RunAsync(input, new ResponseHandler(this), _options.FrameTimeout, _shutdown.Token).ConfigureAwait(false);
        await input.CompleteAsync().ConfigureAwait(false);
        Close(reason);
    }

    private async Task WriteLoopAsync(PipeWriter output)
    {
        var failure = await _writer.RunAsync(output, _shutdown.Token).ConfigureAwait(false);
        if (failure is not null)
            Close(failure);
    }

    private void Close(string reason)
    {
        TaskCompletionSource<Response>[] orphans;
        lock (_lock)
        {
            if (_closeReason is not null)
                return;
            _closeReason = reason;
            orphans = [.. _pending.Values];
            _pending.Clear();
            _writer.Complete();
        }
        var error = ConnectionClosed(reason);
        foreach (var call in orphans)
            call.TrySetException(error);
        _shutdown.Cancel();
        // Disposing the stream also ends a read that ignores cancellation (not every Stream honours it).
        _stream.Dispose();
        _closed.TrySetResult();
    }

    private void Complete(uint streamId, Response response)
    {
        TaskCompletionSource<Response>? call;
        bool neverOpened;
        lock (_lock)
        {
            _pending.Remove(streamId, out call);
            // A call forgotten after its timeout may still be answered; a stream never opened may not.
            neverOpened = call is null && (streamId % 2 == 0 || (!_streamIdsWrapped && streamId >= _nextStreamId));
        }
        if (neverOpened && _options.CloseOnProtocolViolation)
            Close(Violation($"a response on stream {streamId}, which this client never opened"));
        call?.TrySetResult(response);
    }

    private void Fail(uint streamId, StencilException error)
    {
        TaskCompletionSource<Response>? call;
        lock (_lock)
            _pending.Remove(streamId, out call);
        call?.TrySetException(error);
    }

    /// <summary>What a lenient client drops and a strict one closes the connection for.</summary>
    private void Unexpected(string what)
    {
        if (_options.CloseOnProtocolViolation)
            Close(Violation(what));
    }

    /// <summary>Matches response frames to pending calls; anything else a client receives is dropped (or, strict, ends the connection).</summary>
    private sealed class ResponseHandler(TtrpcClient client) : IFrameHandler
    {
        public void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
        {
            if (header.Type != FrameType.Response)
            {
                // A ttRPC 1.1 client serves nothing; a request frame has no one to go to.
                client.Unexpected($"a request frame on stream {header.StreamId} ({header.Length} bytes), but this client serves nothing");
                return;
            }
            Response response;
            try
            {
                response = Response.Parser.ParseFrom(payload);
            }
            catch (InvalidProtocolBufferException ex)
            {
                var error = new StencilException(ErrorKind.Internal,
                    $"ttrpc response on stream {header.StreamId} ({header.Length} bytes) cannot be decoded: {ex.Message}");
                client.Fail(header.StreamId, error);
                client.Unexpected(error.Message);
                return;
            }
            client.Complete(header.StreamId, response);
        }

        public string? OnRejected(in FrameHeader header, FrameReadKind kind)
        {
            if (!client._options.CloseOnProtocolViolation)
                return null; // skipped; OnSkipped fails the call once the body is gone
            var what = Rejected(header, kind);
            if (kind == FrameReadKind.Oversized && header.Type == FrameType.Response)
                client.Fail(header.StreamId, new StencilException(ErrorKind.ResourceExhausted, what));
            return Violation(what);
        }

        public void OnSkipped(in FrameHeader header, FrameReadKind kind)
        {
            if (kind == FrameReadKind.Oversized && header.Type == FrameType.Response)
                client.Fail(header.StreamId, new StencilException(ErrorKind.ResourceExhausted, Rejected(header, kind)));
        }

        private static string Rejected(in FrameHeader header, FrameReadKind kind) => kind == FrameReadKind.UnsupportedType
            ? $"a frame of unknown type 0x{(byte)header.Type:x2} on stream {header.StreamId} ({header.Length} bytes)"
            : header.Type == FrameType.Response
                ? $"ttrpc response on stream {header.StreamId}: {FrameCodec.OversizedMessage(header.Length)}"
                : $"an oversized request frame on stream {header.StreamId}: {FrameCodec.OversizedMessage(header.Length)}";
    }
}
