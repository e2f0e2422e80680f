using System.Threading.Channels;
using Stencil.Oci;
using Stencil.Runtime;
using Stencil.Runtime.Lifecycle;

namespace Stencil.Shim.TestHost;

/// <summary>
/// The test host's pod runtime: a pod runtime without a VM, so the real shim binary can be driven end to end by containerd. Processes
/// are simulated: one whose args[0] is "true" or "false" exits by itself right after it starts (0 or
/// 1); any other runs until a signal ends it with 128 + signal. No command is ever executed.
/// </summary>
internal sealed class SimulatedPodRuntime : IPodRuntime
{
    /// <summary>A bundle annotation that makes creating this runtime fail with its value as the message.</summary>
    public const string FailAnnotation = "io.stencil.test/fail-runtime-create";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SimulatedContainer> _containers = new(StringComparer.Ordinal);
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>();
    private uint _nextPid = 1000;

    public int ContainerCount
    {
        get
        {
            lock (_lock)
                return _containers.Count;
        }
    }

    public IAsyncEnumerable<RuntimeEvent> Events => _events.Reader.ReadAllAsync();

    public Task<uint> CreateAsync(CreateContainerRequest request, CancellationToken cancellationToken)
    {
        var spec = SpecJson.ParseSpec(File.ReadAllBytes(Path.Combine(request.Bundle, "config.json")), "config.json");
        var container = new SimulatedContainer(request.Id, request.Bundle,
            new SimulatedProcess($"container {request.Id}", request.Stdio, spec.Process?.Args ?? []));
        lock (_lock)
        {
            if (!_containers.TryAdd(request.Id, container))
                throw StencilException.AlreadyExists($"container {request.Id} already exists");
        }
        var pid = container.Init.AssignPid(Interlocked.Increment(ref _nextPid));
        Emit(new TaskCreated(Now, request.Id, request.Bundle, request.RootfsMounts, request.Stdio, pid));
        return Task.FromResult(pid);
    }

    public Task<uint> StartAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var container = Container(id);
        var process = container.Process(execId);
        process.Lifecycle.Started(process.Pid);
        process.OpenIo();
        Emit(execId is null ? new TaskStarted(Now, id, process.Pid) : new TaskExecStarted(Now, id, execId, process.Pid));
        if (process.ExitsByItself is { } code)
            Exit(id, execId, process, code);
        return Task.FromResult(process.Pid);
    }

    public ProcessStatus State(string id, string? execId)
    {
        var container = Container(id);
        var process = container.Process(execId);
        var exit = process.Lifecycle.Exit;
        return new ProcessStatus(id, execId ?? "", container.Bundle, process.Pid, process.Lifecycle.State, process.Stdio,
            exit?.ExitCode ?? 0, exit?.ExitedAt);
    }

    public Task<ExitStatus> DeleteAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var container = Container(id);
        var process = container.Process(execId);
        process.Lifecycle.EnsureCanDelete();
        var exit = process.Lifecycle.Exit ?? new ExitStatus(process.Pid, 0, Now);
        if (execId is null)
        {
            lock (_lock)
                _containers.Remove(id);
            Emit(new TaskDeleted(Now, id, process.Pid, exit.ExitCode, exit.ExitedAt ?? Now));
        }
        else
        {
            container.RemoveExec(execId);
        }
        return Task.FromResult(exit);
    }

    public Task<IReadOnlyList<uint>> PidsAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(Container(id).LivePids());

    public Task PauseAsync(string id, CancellationToken cancellationToken)
    {
        var init = Container(id).Init.Lifecycle;
        init.BeginPause();
        init.EndPause(succeeded: true);
        Emit(new TaskPaused(Now, id));
        return Task.CompletedTask;
    }

    public Task ResumeAsync(string id, CancellationToken cancellationToken)
    {
        var init = Container(id).Init.Lifecycle;
        init.EnsureCanResume();
        init.Resumed();
        Emit(new TaskResumed(Now, id));
        return Task.CompletedTask;
    }

    public Task KillAsync(string id, string? execId, uint signal, bool all, CancellationToken cancellationToken)
    {
        var container = Container(id);
        var process = container.Process(execId);
        process.Lifecycle.EnsureCanSignal();
        if (signal is 9 or 15 or 2 or 1)
        {
            // A killed init takes the container's execs with it, as in a real PID namespace.
            if (execId is null)
            {
                foreach (var (execName, exec) in container.Execs())
                    Exit(id, execName, exec, 128 + signal);
            }
            Exit(id, execId, process, 128 + signal);
        }
        return Task.CompletedTask;
    }

    public Task ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        var container = Container(request.Id);
        container.Init.Lifecycle.EnsureRunning("exec in");
        var process = SpecJson.ParseProcess(request.ProcessJson.Span, $"exec {request.ExecId}");
        var exec = new SimulatedProcess($"exec {request.ExecId} of container {request.Id}", request.Stdio, process.Args ?? []);
        container.AddExec(request.ExecId, exec);
        exec.AssignPid(Interlocked.Increment(ref _nextPid));
        Emit(new TaskExecAdded(Now, request.Id, request.ExecId));
        return Task.CompletedTask;
    }

    public Task ResizePtyAsync(string id, string? execId, uint width, uint height, CancellationToken cancellationToken)
    {
        Container(id).Process(execId).Lifecycle.EnsureRunning("resize the terminal of");
        return Task.CompletedTask;
    }

    public Task CloseStdinAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        Container(id).Process(execId);
        return Task.CompletedTask;
    }

    public Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken)
    {
        Container(id);
        return Task.CompletedTask;
    }

    public async Task<ExitStatus> WaitAsync(string id, string? execId, CancellationToken cancellationToken) =>
        await Container(id).Process(execId).Lifecycle.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);

    public Task<ContainerStats> StatsAsync(string id, CancellationToken cancellationToken)
    {
        Container(id);
        return Task.FromResult(new ContainerStats(1_000_000, 600_000, 400_000, 8 << 20, 256 << 20, 1 << 20, 1, 1024, 4096, 8192));
    }

    public ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private void Exit(string id, string? execId, SimulatedProcess process, uint code)
    {
        var at = Now;
        if (!process.Lifecycle.RecordExit(code, at))
            return;
        process.CloseIo();
        Emit(new TaskExited(at, id, execId ?? "", process.Pid, code, at));
    }

    private void Emit(RuntimeEvent runtimeEvent) => _events.Writer.TryWrite(runtimeEvent);

    private SimulatedContainer Container(string id)
    {
        lock (_lock)
        {
            return _containers.TryGetValue(id, out var container)
                ? container
                : throw StencilException.NotFound($"container {id} not found");
        }
    }
}
