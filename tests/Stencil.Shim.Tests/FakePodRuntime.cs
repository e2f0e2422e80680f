using System.Collections.Concurrent;
using System.Threading.Channels;
using Stencil.Runtime;

namespace Stencil.Shim.Tests;

/// <summary>
/// A scripted IPodRuntime: records each call with its converted arguments, answers with canned
/// values, throws <see cref="Failure"/> from every method when set, and blocks Wait until the test
/// releases it.
/// </summary>
internal sealed class FakePodRuntime : IPodRuntime
{
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>();

    public ConcurrentQueue<(string Method, object?[] Args)> Calls { get; } = new();

    public Exception? Failure { get; set; }

    public uint Pid { get; set; } = 42;

    public ProcessStatus Status { get; set; } = new("c1", "", "/bundle", 42, ProcessState.Running, new StdioPaths("/i", "/o", "/e", false), 0, null);

    public ExitStatus Exit { get; set; } = new(42, 137, new DateTimeOffset(2026, 11, 25, 20, 0, 0, TimeSpan.Zero));

    public IReadOnlyList<uint> ProcessIds { get; set; } = [42, 43];

    public ContainerStats Stats { get; set; } = new(10, 6, 4, 100, 200, 30, 3, 50, 1000, 2000);

    /// <summary>Completes every pending and later Wait.</summary>
    public TaskCompletionSource<ExitStatus> WaitResult { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count { get; set; } = 1;

    public int ContainerCount => Count;

    public bool Disposed { get; private set; }

    public IAsyncEnumerable<RuntimeEvent> Events => _events.Reader.ReadAllAsync();

    public void Emit(RuntimeEvent runtimeEvent) => _events.Writer.TryWrite(runtimeEvent);

    public (string Method, object?[] Args) Last(string method) => Calls.Last(c => c.Method == method);

    public bool WasCalled(string method) => Calls.Any(c => c.Method == method);

    public Task<uint> CreateAsync(CreateContainerRequest request, CancellationToken cancellationToken) => Answer("Create", Pid, request);

    public Task<uint> StartAsync(string id, string? execId, CancellationToken cancellationToken) => Answer("Start", Pid, id, execId);

    public ProcessStatus State(string id, string? execId)
    {
        Record("State", id, execId);
        return Status;
    }

    public Task<ExitStatus> DeleteAsync(string id, string? execId, CancellationToken cancellationToken) => Answer("Delete", Exit, id, execId);

    public Task<IReadOnlyList<uint>> PidsAsync(string id, CancellationToken cancellationToken) => Answer("Pids", ProcessIds, id);

    public Task PauseAsync(string id, CancellationToken cancellationToken) => Answer("Pause", 0, id);

    public Task ResumeAsync(string id, CancellationToken cancellationToken) => Answer("Resume", 0, id);

    public Task KillAsync(string id, string? execId, uint signal, bool all, CancellationToken cancellationToken) => Answer("Kill", 0, id, execId, signal, all);

    public Task ExecAsync(ExecRequest request, CancellationToken cancellationToken) => Answer("Exec", 0, request);

    public Task ResizePtyAsync(string id, string? execId, uint width, uint height, CancellationToken cancellationToken) =>
        Answer("ResizePty", 0, id, execId, width, height);

    public Task CloseStdinAsync(string id, string? execId, CancellationToken cancellationToken) => Answer("CloseStdin", 0, id, execId);

    public Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken) =>
        Answer("Update", 0, id, resourcesJson.ToArray(), new Dictionary<string, string>(annotations));

    public async Task<ExitStatus> WaitAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        Record("Wait", id, execId);
        if (Failure is not null)
            throw Failure;
        return await WaitResult.Task.WaitAsync(cancellationToken);
    }

    public Task<ContainerStats> StatsAsync(string id, CancellationToken cancellationToken) => Answer("Stats", Stats, id);

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        _events.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    private void Record(string method, params object?[] args)
    {
        Calls.Enqueue((method, args));
        if (Failure is not null && method == "State")
            throw Failure;
    }

    private Task<T> Answer<T>(string method, T result, params object?[] args)
    {
        Calls.Enqueue((method, args));
        return Failure is null ? Task.FromResult(result) : Task.FromException<T>(Failure);
    }
}
