using System.Net.Sockets;
using Stencil.Agent.Client;
using Stencil.Protocols.Agent;
using Stencil.Ttrpc;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// A guest agent stand-in that speaks real ttRPC: a <see cref="TtrpcServer"/> with the agent's method
/// table on one end of a unix socket pair, the product's <see cref="AgentClient"/> on the other. It
/// answers the calls a pod's life makes, and a test makes it hostile: its stdout reads answer what
/// <see cref="OnReadStdout"/> says, and <see cref="SendRawAsync"/> puts any bytes on the wire.
/// </summary>
internal sealed class HostileAgent : IAsyncDisposable
{
    private readonly TtrpcServer _server = new();
    private readonly Socket _agentSide;
    private readonly Task _serving;
    private int _readsInFlight;
    private int _maxReadsInFlight;
    private int _reads;
    private int _oomEventCalls;
    private int _checks;

    private HostileAgent(Socket agentSide, Socket hostSide, TimeSpan callTimeout)
    {
        _agentSide = agentSide;
        Register();
        _serving = _server.ServeConnectionAsync(new NetworkStream(agentSide, ownsSocket: false), CancellationToken.None);
        Client = new AgentClient(new NetworkStream(hostSide, ownsSocket: true)) { CallTimeout = callTimeout };
    }

    /// <summary>The host's side: the real client, with the bounds it has in the shim.</summary>
    public AgentClient Client { get; }

    /// <summary>Answers each ReadStdout (default: waits until cancelled, as an idle process's stdout does).</summary>
    public Func<ReadStreamRequest, CancellationToken, Task<ReadStreamResponse>> OnReadStdout { get; set; } = async (_, ct) =>
    {
        await Task.Delay(Timeout.Infinite, ct);
        return new ReadStreamResponse();
    };

    /// <summary>Answers each health check (default: at once, serving).</summary>
    public Func<CancellationToken, Task> OnCheck { get; set; } = _ => Task.CompletedTask;

    public int Checks => Volatile.Read(ref _checks);

    /// <summary>Answers StartContainer (default: at once).</summary>
    public Func<CancellationToken, Task> OnStartContainer { get; set; } = _ => Task.CompletedTask;

    /// <summary>Answers each GetOOMEvent (default: waits until cancelled: no OOM kill).</summary>
    public Func<CancellationToken, Task<OOMEvent>> OnOomEvent { get; set; } = async ct =>
    {
        await Task.Delay(Timeout.Infinite, ct);
        return new OOMEvent();
    };

    public int OomEventCalls => Volatile.Read(ref _oomEventCalls);

    public int Reads => Volatile.Read(ref _reads);

    /// <summary>The most stdout reads the host had waiting at once.</summary>
    public int MaxReadsInFlight => Volatile.Read(ref _maxReadsInFlight);

    public static async Task<HostileAgent> StartAsync(TimeSpan? callTimeout = null)
    {
        var (host, agent) = await Stencil.TestSupport.SocketPair.CreateAsync();
        return new HostileAgent(agent, host, callTimeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>Writes <paramref name="bytes"/> on the agent's side of the link, as a compromised guest could.</summary>
    public async Task SendRawAsync(byte[] bytes) => await _agentSide.SendAsync(bytes.AsMemory());

    private void Register()
    {
        _server.Register(AgentMethods.Check, async (_, context) =>
        {
            Interlocked.Increment(ref _checks);
            await OnCheck(context.CancellationToken);
            return new CheckResponse { Status = CheckResponse.Types.ServingStatus.Serving };
        });
        _server.Register(AgentMethods.CreateSandbox, (_, _) => Task.FromResult(new Empty()));
        _server.Register(AgentMethods.DestroySandbox, (_, _) => Task.FromResult(new Empty()));
        _server.Register(AgentMethods.CreateContainer, (_, _) => Task.FromResult(new CreateContainerResponse { Pid = 42 }));
        _server.Register(AgentMethods.StartContainer, async (_, context) =>
        {
            await OnStartContainer(context.CancellationToken);
            return new Empty();
        });
        _server.Register(AgentMethods.RemoveContainer, (_, _) => Task.FromResult(new Empty()));
        _server.Register(AgentMethods.SignalProcess, (_, _) => Task.FromResult(new Empty()));
        _server.Register(AgentMethods.WaitProcess, async (_, context) =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new WaitProcessResponse();
        });
        _server.Register(AgentMethods.GetOOMEvent, async (_, context) =>
        {
            Interlocked.Increment(ref _oomEventCalls);
            return await OnOomEvent(context.CancellationToken);
        });
        _server.Register(AgentMethods.ReadStderr, async (_, context) =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new ReadStreamResponse();
        });
        _server.Register(AgentMethods.ReadStdout, async (request, context) =>
        {
            Interlocked.Increment(ref _reads);
            var now = Interlocked.Increment(ref _readsInFlight);
            InterlockedMax(ref _maxReadsInFlight, now);
            try
            {
                return await OnReadStdout(request, context.CancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _readsInFlight);
            }
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var before && before != seen)
            seen = before;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        _agentSide.Dispose();
        await _server.DisposeAsync();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
