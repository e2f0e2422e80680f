using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.EventsService;
using Stencil.Shim.Serve;
using Stencil.Ttrpc;

namespace Stencil.Shim.Tests;

/// <summary>containerd's side of event forwarding: Events/Forward on a unix socket, recording what arrives.</summary>
internal sealed class FakeEventsServer : IAsyncDisposable
{
    private readonly TtrpcServer _server = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _listening;

    public FakeEventsServer(string socketPath, Func<Envelope, Task>? handler = null)
    {
        SocketPath = socketPath;
        _server.Register(new TtrpcMethod<ForwardRequest, Empty>(EventPublisher.ServiceName, "Forward"), async (request, context) =>
        {
            if (handler is not null)
                await handler(request.Envelope);
            Received.Enqueue((request.Envelope, context.GetMetadata(EventPublisher.NamespaceMetadataKey)));
            return new Empty();
        });
        _listening = _server.ListenAsync(socketPath, _stop.Token);
    }

    public string SocketPath { get; }

    public ConcurrentQueue<(Envelope Envelope, string? Namespace)> Received { get; } = new();

    public async Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (Received.Count < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Received.Count} of {count} events arrived: {string.Join(", ", Received.Select(r => r.Envelope.Topic))}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _listening;
        await _server.DisposeAsync();
    }
}
