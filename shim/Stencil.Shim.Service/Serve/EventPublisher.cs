using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.EventsService;
using Stencil.Runtime;
using Stencil.Shim.Logging;
using Stencil.Ttrpc;

namespace Stencil.Shim.Serve;

/// <summary>
/// Forwards the runtime's events to containerd (Events/Forward on TTRPC_ADDRESS), one at a time and
/// in order. Publishing only enqueues, so the Task service never waits for containerd; a failed
/// forward reconnects and retries with backoff, and an event that still fails is dropped with an
/// error in the log rather than holding back the ones after it forever.
/// </summary>
internal sealed class EventPublisher : IAsyncDisposable
{
    public const string ServiceName = "containerd.services.events.ttrpc.v1.Events";
    public const string NamespaceMetadataKey = "containerd-namespace-ttrpc";

    private static readonly TtrpcMethod<ForwardRequest, Empty> s_forward = new(ServiceName, "Forward");

    private readonly string? _address;
    private readonly string _namespace;
    private readonly ShimLog _log;
    private readonly EventPublisherOptions _options;
    private readonly TtrpcCallOptions _callOptions;
    private readonly Channel<Envelope> _queue = Channel.CreateUnbounded<Envelope>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private TtrpcClient? _client;

    /// <param name="ttrpcAddress">containerd's ttRPC socket; null or empty: events are dropped (logged once).</param>
    public EventPublisher(string? ttrpcAddress, string ns, ShimLog log, EventPublisherOptions? options = null)
    {
        _address = string.IsNullOrEmpty(ttrpcAddress) ? null : ttrpcAddress;
        _namespace = ns;
        _log = log;
        _options = options ?? new EventPublisherOptions();
        _callOptions = new TtrpcCallOptions
        {
            Timeout = _options.CallTimeout,
            Metadata = [new KeyValuePair<string, string>(NamespaceMetadataKey, ns)],
        };
        if (_address is null)
            _log.Warning("TTRPC_ADDRESS is not set: task events will not reach containerd");
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>Enqueues one event; never blocks.</summary>
    public void Publish(RuntimeEvent runtimeEvent)
    {
        Envelope envelope;
        try
        {
            envelope = EventEnvelopes.ToEnvelope(runtimeEvent, _namespace);
        }
        catch (StencilException ex)
        {
            _log.Error($"event not forwarded: {ex.Message}");
            return;
        }
        if (!_queue.Writer.TryWrite(envelope))
            _log.Warning($"event {envelope.Topic} after shutdown not forwarded");
    }

    /// <summary>Publishes everything <paramref name="events"/> yields until it ends or the token fires.</summary>
    public async Task PumpAsync(IAsyncEnumerable<RuntimeEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var runtimeEvent in events.WithCancellation(cancellationToken).ConfigureAwait(false))
                Publish(runtimeEvent);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _log.Error($"the runtime's event stream failed: {ex.Message}");
        }
    }

    /// <summary>
    /// Stops taking events and forwards what is queued, for at most <paramref name="timeout"/>; events
    /// still queued then are dropped (the daemon is exiting).
    /// </summary>
    public async Task CompleteAsync(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _sender.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.Warning($"events still queued after {timeout.TotalSeconds:0.#} s at exit were dropped");
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sender.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (_client is not null)
            await _client.DisposeAsync().ConfigureAwait(false);
        _client = null;
    }

    private async Task SendLoopAsync()
    {
        var token = _stop.Token;
        while (await _queue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var envelope))
            {
                if (_address is null)
                    continue;
                await ForwardWithRetriesAsync(envelope, token).ConfigureAwait(false);
            }
        }
    }

    private async Task ForwardWithRetriesAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { Envelope = envelope };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
                await client.CallAsync(s_forward, request, _callOptions, cancellationToken).ConfigureAwait(false);
                _log.Debug("event forwarded", ShimLog.Field("topic", envelope.Topic));
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                await DropClientAsync().ConfigureAwait(false);
                if (attempt >= _options.MaxAttempts)
                {
                    _log.Error($"event {envelope.Topic} dropped after {attempt} attempts: {ex.Message}");
                    return;
                }
                _log.Warning($"forwarding event {envelope.Topic} failed (attempt {attempt}), retrying: {ex.Message}");
                await Task.Delay(_options.FirstRetryDelay * (1 << (attempt - 1)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<TtrpcClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { Closed.IsCompleted: false })
            return _client;
        await DropClientAsync().ConfigureAwait(false);
        _client = await TtrpcClient.ConnectAsync(_address!, cancellationToken).ConfigureAwait(false);
        return _client;
    }

    private async Task DropClientAsync()
    {
        if (_client is null)
            return;
        var client = _client;
        _client = null;
        await client.DisposeAsync().ConfigureAwait(false);
    }
}
