using System.Collections.Concurrent;
using Stencil.Agent.Client;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// An agent that answers from memory: containers it was asked to create, processes whose exits the test
/// reports with <see cref="Exit"/>, and a link that <see cref="Break"/> cuts (every pending and later
/// call then fails Unavailable, as a dead VM's does).
/// </summary>
internal sealed class FakeAgentClient : IAgentClient
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ProcessExit>> _waits = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Threading.Channels.Channel<string> _oomKills = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private string? _broken;

    /// <summary>Every call, in order ("CreateContainer c1", "StartContainer c1", ...).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Runs in CreateContainerAsync before it answers; a throw fails the create.</summary>
    public Func<ContainerConfig, Task>? OnCreateContainer { get; set; }

    public Task Closed => _closed.Task;

    public string? CloseReason => _broken;

    public void Exit(string containerId, string? execId, int code) =>
        Wait(containerId, execId).TrySetResult(new ProcessExit(code, DateTimeOffset.UtcNow));

    /// <summary>The next GetOomEvent answers <paramref name="containerId"/> (any text: the guest's word).</summary>
    public void ReportOomKill(string containerId) => _oomKills.Writer.TryWrite(containerId);

    public void Disconnect(string reason) => Break(reason);

    public void Break(string reason)
    {
        _broken = reason;
        _oomKills.Writer.TryComplete(StencilException.Unavailable(reason));
        foreach (var w in _waits.Values)
            w.TrySetException(StencilException.Unavailable(reason));
        _closed.TrySetResult();
    }

    private TaskCompletionSource<ProcessExit> Wait(string containerId, string? execId) =>
        _waits.GetOrAdd($"{containerId}/{execId}", _ => new TaskCompletionSource<ProcessExit>(TaskCreationOptions.RunContinuationsAsynchronously));

    private Task Record(string call)
    {
        Calls.Enqueue(call);
        return _broken is { } reason ? Task.FromException(StencilException.Unavailable(reason)) : Task.CompletedTask;
    }

    private async Task<T> Record<T>(string call, T answer)
    {
        await Record(call).ConfigureAwait(false);
        return answer;
    }

    public Task<bool> CheckAsync(CancellationToken cancellationToken = default) => Record("Check", true);

    public Task<bool> CheckAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => Record("Check", true);

    public Task<AgentVersionInfo> VersionAsync(CancellationToken cancellationToken = default) => Record("Version", new AgentVersionInfo("fake", 1));

    /// <summary>What the last CreateSandbox asked for.</summary>
    public SandboxConfig? Sandbox { get; private set; }

    public Task CreateSandboxAsync(SandboxConfig config, CancellationToken cancellationToken = default)
    {
        Sandbox = config;
        return Record($"CreateSandbox {config.SandboxId}");
    }

    public Task DestroySandboxAsync(CancellationToken cancellationToken = default) => Record("DestroySandbox");

    public async Task<int> CreateContainerAsync(ContainerConfig config, CancellationToken cancellationToken = default)
    {
        await Record($"CreateContainer {config.Id}").ConfigureAwait(false);
        if (OnCreateContainer is { } hook)
            await hook(config).ConfigureAwait(false);
        return 100 + Calls.Count;
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) => Record($"StartContainer {containerId}");

    public Task RemoveContainerAsync(string containerId, bool force = false, CancellationToken cancellationToken = default) => Record($"RemoveContainer {containerId}");

    public Task PauseContainerAsync(string containerId, CancellationToken cancellationToken = default) => Record($"PauseContainer {containerId}");

    public Task ResumeContainerAsync(string containerId, CancellationToken cancellationToken = default) => Record($"ResumeContainer {containerId}");

    public Task UpdateContainerAsync(string containerId, ReadOnlyMemory<byte> resourcesJson, CancellationToken cancellationToken = default) => Record($"UpdateContainer {containerId}");

    public Task<ContainerStatistics> StatsContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("not used by these tests");

    public Task<IReadOnlyList<GuestProcessInfo>> ListProcessesAsync(string containerId, CancellationToken cancellationToken = default) =>
        Record<IReadOnlyList<GuestProcessInfo>>($"ListProcesses {containerId}", []);

    public Task<int> ExecProcessAsync(string containerId, string execId, ReadOnlyMemory<byte> processJson, CancellationToken cancellationToken = default) =>
        Record($"ExecProcess {containerId} {execId}", 500);

    /// <summary>Runs when a signal arrives, before it is recorded (e.g. <see cref="Break"/>: the link closing under it).</summary>
    public Action? OnSignalProcess { get; set; }

    public Task SignalProcessAsync(string containerId, string? execId, int signal, bool all = false, CancellationToken cancellationToken = default)
    {
        OnSignalProcess?.Invoke();
        return Record($"SignalProcess {containerId} {execId} {signal}");
    }

    public async Task<ProcessExit> WaitProcessAsync(string containerId, string? execId, CancellationToken cancellationToken = default)
    {
        await Record($"WaitProcess {containerId} {execId}").ConfigureAwait(false);
        return await Wait(containerId, execId).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<int> WriteStdinAsync(string containerId, string? execId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Record("WriteStdin", data.Length);

    public Task<ReadOnlyMemory<byte>> ReadAsync(string containerId, string? execId, StdioStream stream, int maxLength = AgentClient.MaxReadChunk,
        CancellationToken cancellationToken = default) => Record("Read", ReadOnlyMemory<byte>.Empty);

    public Task CloseStdinAsync(string containerId, string? execId, CancellationToken cancellationToken = default) => Record("CloseStdin");

    public Task ResizeTtyAsync(string containerId, string? execId, int rows, int columns, CancellationToken cancellationToken = default) => Record("ResizeTty");

    public async Task<string> GetOomEventAsync(CancellationToken cancellationToken = default) =>
        await _oomKills.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);

    public Task<CpuMemOnlineResult> OnlineCpuMemAsync(int wantCpus = 0, bool cpuOnly = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Record("OnlineCpuMem", new CpuMemOnlineResult(wantCpus, 0, 0, 0));

    public Task ReseedRandomDevAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Record("ReseedRandomDev");

    public Task SetGuestDateTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default) => Record("SetGuestDateTime");

    public Task<GuestDetails> GetGuestDetailsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("not used by these tests");

    public Task<NetworkInterface> UpdateInterfaceAsync(NetworkInterface wanted, CancellationToken cancellationToken = default) => Record("UpdateInterface", wanted);

    public Task<IReadOnlyList<NetworkRoute>> UpdateRoutesAsync(IReadOnlyList<NetworkRoute> routes, CancellationToken cancellationToken = default) => Record("UpdateRoutes", routes);

    public Task<IReadOnlyList<NetworkInterface>> ListInterfacesAsync(CancellationToken cancellationToken = default) => Record<IReadOnlyList<NetworkInterface>>("ListInterfaces", []);

    public Task<ulong> PortForwardOpenAsync(int port, CancellationToken cancellationToken = default) => Record("PortForwardOpen", 1UL);

    public Task<int> PortForwardWriteAsync(ulong streamId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Record("PortForwardWrite", data.Length);

    public Task<ReadOnlyMemory<byte>> PortForwardReadAsync(ulong streamId, int maxLength = AgentClient.MaxReadChunk, CancellationToken cancellationToken = default) =>
        Record("PortForwardRead", ReadOnlyMemory<byte>.Empty);

    public Task PortForwardCloseWriteAsync(ulong streamId, CancellationToken cancellationToken = default) => Record("PortForwardCloseWrite");

    public Task PortForwardCloseAsync(ulong streamId, CancellationToken cancellationToken = default) => Record("PortForwardClose");

    public ValueTask DisposeAsync()
    {
        _closed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
