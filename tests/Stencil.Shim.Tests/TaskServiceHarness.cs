using System.Net.Sockets;
using Stencil.Shim.Logging;
using Stencil.Shim.Serve;
using Stencil.Shim.Start;
using Stencil.Ttrpc;

namespace Stencil.Shim.Tests;

/// <summary>
/// The Task service as the daemon runs it: registered on a TtrpcServer, served by the daemon's accept
/// loop on a real unix socket, with a real TtrpcClient as containerd.
/// </summary>
internal sealed class TaskServiceHarness : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private readonly TtrpcServer _server = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Socket _listener;
    private readonly Task _accepting;
    private int _shutdowns;

    private TaskServiceHarness(FakePodRuntime runtime)
    {
        Runtime = runtime;
        SocketPath = _dir.Combine("shim.sock");
        // The daemon gets this fd (as fd 3) from `start`; here the Socket takes it over directly.
        var fd = ShimSocket.TryListen(SocketPath)!;
        var raw = fd.DangerousGetHandle();
        fd.SetHandleAsInvalid();
        _listener = new Socket(new SafeSocketHandle(raw, ownsHandle: true));
        new TaskService(runtime, ShimLog.Null, () => Interlocked.Increment(ref _shutdowns)).Register(_server);
        _accepting = _server.ServeListenerAsync(_listener, _stop.Token);
    }

    public FakePodRuntime Runtime { get; }

    public string SocketPath { get; }

    public TtrpcClient Client { get; private set; } = null!;

    public int Shutdowns => Volatile.Read(ref _shutdowns);

    public static async Task<TaskServiceHarness> StartAsync(FakePodRuntime? runtime = null)
    {
        var harness = new TaskServiceHarness(runtime ?? new FakePodRuntime());
        harness.Client = await TtrpcClient.ConnectAsync(harness.SocketPath);
        return harness;
    }

    public Task<TResponse> CallAsync<TRequest, TResponse>(string method, TRequest request)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new() =>
        Client.CallAsync(new TtrpcMethod<TRequest, TResponse>(TaskService.ServiceName, method), request,
            new TtrpcCallOptions { Timeout = TimeSpan.FromSeconds(10) });

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        _stop.Cancel();
        _listener.Dispose();
        await _server.DisposeAsync();
        await _accepting;
        _dir.Dispose();
    }
}
