using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

/// <summary>
/// A QMP client on a unix socket. The greeting is read before anything is sent; exactly one command is
/// in flight at a time (the next waits until the previous one's reply has arrived, even if its caller
/// gave up); one reader loop tells events from replies; when the connection drops, the command in
/// flight and every later one fail with <see cref="ErrorKind.Unavailable"/>. A QMP error reply becomes
/// a <see cref="StencilException"/> naming the command and QEMU's description.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    /// <summary>Events nobody reads are dropped oldest-first past this many, so the reader never blocks on them.</summary>
    public const int EventBacklog = 256;

    private readonly Socket _socket;
    private readonly int _maxLineBytes;
    private readonly SemaphoreSlim _inFlight = new(1, 1);
    private readonly Channel<QmpEvent> _events = Channel.CreateBounded<QmpEvent>(new BoundedChannelOptions(EventBacklog)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleWriter = true,
    });
    private readonly TaskCompletionSource<JsonElement> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private PendingCommand? _pending;
    private StencilException? _closeReason;
    private long _lastId;
    private Task _readLoop = Task.CompletedTask;
    private int _disposed;

    private QmpClient(Socket socket, string endpoint, int maxLineBytes)
    {
        _socket = socket;
        Endpoint = endpoint;
        _maxLineBytes = maxLineBytes;
    }

    /// <summary>The socket path, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>QEMU's version from the greeting ("7.2.22").</summary>
    public string? QemuVersion { get; private set; }

    /// <summary>Events in arrival order. Completes when the connection closes.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Connects, reads the greeting and negotiates capabilities (qmp_capabilities).</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        var socket = await TryConnectSocketAsync(socketPath, cancellationToken).ConfigureAwait(false)
            ?? throw StencilException.Unavailable($"QMP socket {socketPath} does not exist or refuses connections");
        return await StartAsync(socket, socketPath, QmpFraming.DefaultMaxLineBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects the socket only. Null when nothing listens there yet (no such file, connection
    /// refused): QEMU creates its QMP socket a few tens of milliseconds after it starts.
    /// </summary>
    internal static async Task<Socket?> TryConnectSocketAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts the reader on a connected socket, waits for the greeting, negotiates capabilities.</summary>
    internal static async Task<QmpClient> StartAsync(Socket socket, string endpoint, int maxLineBytes, CancellationToken cancellationToken)
    {
        var client = new QmpClient(socket, endpoint, maxLineBytes);
        client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
        try
        {
            var greeting = await client._greeting.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            client.QemuVersion = QmpMessage.GreetingVersion(greeting);
            await client.ExecuteAsync(QmpCommands.Capabilities(), cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs one command and returns its "return" value. <paramref name="arguments"/> writes the
    /// properties of the "arguments" object (null sends none).
    /// </summary>
    public Task<JsonElement> ExecuteAsync(string command, Action<Utf8JsonWriter>? arguments = null, CancellationToken cancellationToken = default) =>
        ExecuteCoreAsync(command, arguments, fd: null, cancellationToken);

    /// <summary>Runs one command built by <see cref="QmpCommands"/>; returns its "return" value.</summary>
    internal Task<JsonElement> ExecuteAsync(QmpCommand command, CancellationToken cancellationToken) =>
        ExecuteCoreAsync(command.Name, command.Arguments, fd: null, cancellationToken);

    /// <summary>
    /// Hands <paramref name="fd"/> to QEMU under <paramref name="fdName"/> (QMP getfd; the fd travels as
    /// SCM_RIGHTS with the command's bytes). QEMU holds its own copy: the caller may close theirs after.
    /// </summary>
    public async Task SendFdAsync(string fdName, SafeHandle fd, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fd);
        QemuOptionText.CheckName("fd name", fdName);
        if (fd.IsInvalid || fd.IsClosed)
            throw StencilException.InvalidArgument($"fd for '{fdName}' is closed or invalid");
        var getfd = QmpCommands.GetFd(fdName);
        await ExecuteCoreAsync(getfd.Name, getfd.Arguments, fd, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes an fd QEMU holds under <paramref name="fdName"/> that no command consumed.</summary>
    public Task CloseFdAsync(string fdName, CancellationToken cancellationToken = default) =>
        ExecuteAsync(QmpCommands.CloseFd(fdName), cancellationToken);

    private async Task<JsonElement> ExecuteCoreAsync(string command, Action<Utf8JsonWriter>? arguments, SafeHandle? fd, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        // Encoded before taking the slot: a throwing argument writer must not hold it.
        var id = Interlocked.Increment(ref _lastId);
        var bytes = QmpRequest.Encode(command, id, arguments);

        // Nothing is sent before the greeting has been read (connection setup awaits it too).
        await _greeting.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        var pending = new PendingCommand(command, id);
        lock (_gate)
        {
            if (_closeReason is { } reason)
            {
                _inFlight.Release();
                throw ClosedFor(command, reason);
            }
            // From here on the slot is released by whoever completes `pending`: the reader or Close.
            _pending = pending;
        }

        try
        {
            await SendAsync(bytes, fd).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            Close(ex);
        }

        try
        {
            return await pending.Reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The reply will still come and free the slot; nobody will look at it.
            _ = pending.Reply.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private async Task SendAsync(byte[] bytes, SafeHandle? fd)
    {
        var offset = 0;
        if (fd is not null)
        {
            while (true)
            {
                var sent = FdPassing.TrySend(_socket.SafeHandle, bytes, fd);
                if (sent >= 0)
                {
                    offset = sent;
                    break;
                }
                // EAGAIN: QEMU is not draining its socket; the command is tiny, so this is rare.
                await Task.Delay(1).ConfigureAwait(false);
            }
        }
        while (offset < bytes.Length)
            offset += await _socket.SendAsync(bytes.AsMemory(offset), SocketFlags.None).ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        var reader = PipeReader.Create(new NetworkStream(_socket, ownsSocket: false));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (QmpFraming.TryReadLine(ref buffer, _maxLineBytes, out var line))
                    Dispatch(line);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            Close(failure);
        }
    }

    private void Dispatch(ReadOnlySequence<byte> line)
    {
        if (IsBlank(line))
            return;
        var message = QmpMessage.Parse(line);
        if (message.Kind != QmpMessageKind.Greeting && !_greeting.Task.IsCompleted)
            throw new InvalidDataException($"QMP peer sent a {message.Kind} message before its greeting");

        switch (message.Kind)
        {
            case QmpMessageKind.Greeting:
                if (!_greeting.TrySetResult(message.Payload))
                    throw new InvalidDataException("QMP peer sent a second greeting");
                break;

            case QmpMessageKind.Event:
                _events.Writer.TryWrite(new QmpEvent(message.EventName!, message.Payload, message.Timestamp));
                break;

            default:
                PendingCommand pending;
                lock (_gate)
                {
                    if (_pending is null || message.Id != _pending.Id)
                    {
                        throw new InvalidDataException(_pending is null
                            ? $"QMP peer sent a reply (id {Show(message.Id)}) while no command was waiting"
                            : $"QMP peer sent a reply with id {Show(message.Id)} while '{_pending.Command}' (id {_pending.Id}) was waiting");
                    }
                    pending = _pending;
                    _pending = null;
                }
                _inFlight.Release();
                if (message.Kind == QmpMessageKind.Return)
                    pending.Reply.TrySetResult(message.Payload);
                else
                    pending.Reply.TrySetException(QmpErrors.FromReply(pending.Command, message.ErrorClass!, message.ErrorDescription!));
                break;
        }
    }

    private void Close(Exception? cause)
    {
        PendingCommand? pending;
        StencilException reason;
        lock (_gate)
        {
            if (_closeReason is not null)
                return;
            reason = cause switch
            {
                null => StencilException.Unavailable($"QMP connection {Endpoint} was closed by QEMU"),
                ObjectDisposedException or OperationCanceledException when _disposed != 0 =>
                    StencilException.Unavailable($"QMP connection {Endpoint} was closed by its owner"),
                InvalidDataException => StencilException.Unavailable($"QMP connection {Endpoint} dropped: {cause.Message}", cause),
                _ => StencilException.Unavailable($"QMP connection {Endpoint} failed: {cause.Message}", cause),
            };
            _closeReason = reason;
            pending = _pending;
            _pending = null;
        }

        if (pending is not null)
        {
            _inFlight.Release();
            pending.Reply.TrySetException(ClosedFor(pending.Command, reason));
        }
        if (_greeting.TrySetException(reason))
            _ = _greeting.Task.Exception; // observed: a connect that failed has already rethrown it
        _events.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        _closed.TrySetResult();
    }

    private static StencilException ClosedFor(string command, StencilException reason) =>
        StencilException.Unavailable($"'{command}' got no reply: {reason.Message}", reason);

    internal static bool IsBlank(in ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                    return false;
            }
        }
        return true;
    }

    private static string Show(long? id) => id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Close(new ObjectDisposedException(nameof(QmpClient)));
            _stop.Cancel();
        }
        await _readLoop.ConfigureAwait(false);
        _socket.Dispose();
    }

    private sealed class PendingCommand(string command, long id)
    {
        public string Command { get; } = command;
        public long Id { get; } = id;
        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
