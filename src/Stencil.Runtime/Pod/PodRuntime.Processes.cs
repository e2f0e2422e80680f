using System.Diagnostics;
using Stencil.Oci;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

public sealed partial class PodRuntime
{
    /// <summary>The exit code a Wait reports for an exec whose start failed (it never ran, so it did not succeed).</summary>
    private const uint ExecNeverStartedExitCode = 255;

    public async Task<uint> StartAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (container, process) = Find(id, execId);
        process.Lifecycle.EnsureCanStart();
        var vm = _sandbox.RequireVm();
        if (process.ExecId.Length == 0 && container.RestoredFrom is not null)
        {
            await StartRestoredAsync(container, process, cancellationToken).ConfigureAwait(false);
        }
        else if (process.ExecId.Length == 0)
        {
            // `ctr run --cni` put the interfaces into the holder's namespace between create and start.
            await _sandbox.ConnectClientNetworkAsync(cancellationToken).ConfigureAwait(false);
            var began = Stopwatch.GetTimestamp();
            await vm.Agent.StartContainerAsync(id, cancellationToken).ConfigureAwait(false);
            var startMs = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
            process.Lifecycle.Started(process.Pid);
            Publish(new TaskStarted(DateTimeOffset.UtcNow, id, process.Pid));
            if (container.Hooks is { IsEmpty: false } hooks)
                await hooks.RunAsync("poststart", HookState(container, "running"), _log, $"container {id}", warnOnly: true, cancellationToken).ConfigureAwait(false);
            _log.Debug($"container {id} start: guest start {startMs:F0} ms");
            if (container.PendingStart is { } pending)
            {
                container.PendingStart = null;
                RecordStart(pending, startMs);
            }
        }
        else
        {
            container.Init.Lifecycle.EnsureRunning("exec in");
            int pid;
            var began = Stopwatch.GetTimestamp();
            ProcessOutputs? outputs = null;
            try
            {
                outputs = await StdioForwarder.PrepareAsync(process.Stdio, _options.Namespace, id, process.ExecId, _log, cancellationToken).ConfigureAwait(false);
                pid = await vm.Agent.ExecProcessAsync(id, process.ExecId, process.ProcessJson, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StencilException or OperationCanceledException)
            {
                if (outputs is not null)
                    await outputs.DisposeAsync().ConfigureAwait(false);
                // The process never ran: a Wait on it must return now (as runc's shim does), or containerd,
                // which kills and waits for a failed exec before deleting it, waits out its whole deadline.
                // No exit event: nothing was started.
                process.Lifecycle.RecordExit(ExecNeverStartedExitCode, DateTimeOffset.UtcNow);
                throw;
            }
            process.Pid = TaskPid(pid);
            process.Forwarder = StdioForwarder.Start(vm.Agent, id, process.ExecId, process.Stdio, _log, outputs);
            process.Lifecycle.Started(process.Pid);
            process.Waiter = WaitForExitAsync(vm, process);
            Publish(new TaskExecStarted(DateTimeOffset.UtcNow, id, process.ExecId, process.Pid));
            _log.Debug($"exec {process.ExecId} of container {id} start: guest exec {Stopwatch.GetElapsedTime(began).TotalMilliseconds:F0} ms");
        }
        return process.Pid;
    }

    public Task ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        var processSpec = SpecJson.ParseProcess(request.ProcessJson.Span, $"exec {request.ExecId}");
        var errors = new List<string>();
        SpecValidator.ValidateProcess(processSpec, "process", errors);
        if (errors.Count > 0)
            throw StencilException.InvalidArgument($"exec {request.ExecId}: {string.Join("; ", errors)}");
        StdioForwarder.Targets(request.Stdio);
        lock (_gate)
        {
            var container = Get(request.Id);
            container.Init.Lifecycle.EnsureRunning("exec in");
            if (container.Execs.ContainsKey(request.ExecId))
                throw StencilException.AlreadyExists($"exec \"{request.ExecId}\" of container \"{request.Id}\" already exists");
            container.Execs.Add(request.ExecId, new PodProcess(request.Id, request.ExecId, request.Stdio, request.ProcessJson));
        }
        Publish(new TaskExecAdded(DateTimeOffset.UtcNow, request.Id, request.ExecId));
        return Task.CompletedTask;
    }

    /// <summary>Waits in the agent for the exit, lets the output drain, records the exit once and announces it.</summary>
    private async Task WaitForExitAsync(IPodVm vm, PodProcess process)
    {
        uint code;
        DateTimeOffset at;
        try
        {
            var exit = await vm.Agent.WaitProcessAsync(process.ContainerId, process.AgentExecId, CancellationToken.None).ConfigureAwait(false);
            code = (uint)exit.ExitCode;
            at = exit.ExitedAt;
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException)
        {
            // The VM (or the link to it) is gone: the process is gone with it.
            code = _options.VmDiedExitCode;
            at = DateTimeOffset.UtcNow;
            _log.Warning($"{process.Lifecycle.What}: lost while waiting for its exit: {vm.ExitReason ?? ex.Message}");
        }
        if (process.Forwarder is { } forwarder)
            await Task.WhenAny(forwarder.OutputDone, Task.Delay(_options.OutputDrainTimeout)).ConfigureAwait(false);
        if (process.Lifecycle.RecordExit(code, at))
        {
            Publish(new TaskExited(DateTimeOffset.UtcNow, process.ContainerId, process.ExecId.Length == 0 ? process.ContainerId : process.ExecId,
                process.Pid, code, at));
            _log.Info($"{process.Lifecycle.What} exited with status {code}");
        }
    }

    public ProcessStatus State(string id, string? execId)
    {
        var (container, process) = Find(id, execId);
        var exit = process.Lifecycle.Exit;
        return new ProcessStatus(id, process.ExecId, container.Bundle.Path, process.Pid, process.Lifecycle.State, process.Stdio,
            exit?.ExitCode ?? 0, exit?.ExitedAt);
    }

    public Task<ExitStatus> WaitAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        return process.Lifecycle.Exited.WaitAsync(cancellationToken);
    }

    public async Task KillAsync(string id, string? execId, uint signal, bool all, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        process.Lifecycle.EnsureCanSignal();
        var vm = _sandbox.RequireVm();
        try
        {
            await vm.Agent.SignalProcessAsync(id, process.AgentExecId, (int)signal, all, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind == ErrorKind.Unavailable && vm.Agent.Closed.IsCompleted)
        {
            // The link to the agent closed while the signal was on its way: the VM is being stopped (the pod's
            // teardown) or has died, and every process in it with it; their waits report the exits. As for a
            // process that has exited: NotFound, which containerd takes as done (seen under CRI: StopPodSandbox's
            // kill of the sandbox container crossing the pod's teardown, which failed the StopPodSandbox).
            throw StencilException.NotFound(
                $"{process.Lifecycle.What}: process already finished (the link to the pod's VM is closed: {vm.Agent.CloseReason ?? ex.Message})");
        }
    }

    public async Task PauseAsync(string id, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.BeginPause();
        var paused = false;
        try
        {
            await _sandbox.RequireVm().Agent.PauseContainerAsync(id, cancellationToken).ConfigureAwait(false);
            paused = true;
        }
        finally
        {
            init.Lifecycle.EndPause(paused);
        }
        Publish(new TaskPaused(DateTimeOffset.UtcNow, id));
    }

    public async Task ResumeAsync(string id, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.EnsureCanResume();
        await _sandbox.RequireVm().Agent.ResumeContainerAsync(id, cancellationToken).ConfigureAwait(false);
        init.Lifecycle.Resumed();
        Publish(new TaskResumed(DateTimeOffset.UtcNow, id));
    }

    public async Task<IReadOnlyList<uint>> PidsAsync(string id, CancellationToken cancellationToken)
    {
        Find(id, null);
        var processes = await _sandbox.RequireVm().Agent.ListProcessesAsync(id, cancellationToken).ConfigureAwait(false);
        return processes.Select(p => (uint)p.Pid).ToList();
    }

    public async Task ResizePtyAsync(string id, string? execId, uint width, uint height, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        if (!process.Stdio.Terminal)
            throw StencilException.FailedPrecondition($"{process.Lifecycle.What} has no terminal to resize");
        process.Lifecycle.EnsureRunning("resize the terminal of");
        await _sandbox.RequireVm().Agent.ResizeTtyAsync(id, process.AgentExecId, (int)height, (int)width, cancellationToken).ConfigureAwait(false);
    }

    public Task CloseStdinAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        process.Forwarder?.CloseStdin();
        return Task.CompletedTask;
    }

    public async Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.EnsureRunning("update");
        await _sandbox.RequireVm().Agent.UpdateContainerAsync(id, resourcesJson, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ContainerStats> StatsAsync(string id, CancellationToken cancellationToken)
    {
        Find(id, null);
        var s = await _sandbox.RequireVm().Agent.StatsContainerAsync(id, cancellationToken).ConfigureAwait(false);
        return new ContainerStats(s.CpuUsageMicros * 1000, s.CpuUserMicros * 1000, s.CpuSystemMicros * 1000,
            s.MemoryUsageBytes, s.MemoryLimitBytes, s.MemoryFileBytes, s.PidsCurrent, s.PidsLimit, s.IoReadBytes, s.IoWriteBytes)
        {
            MemoryRssBytes = s.MemoryAnonBytes,
            MemoryPageFaults = s.MemoryPageFaults,
            MemoryMajorPageFaults = s.MemoryMajorPageFaults,
            MemoryInactiveFileBytes = s.MemoryInactiveFileBytes,
        };
    }

    /// <summary>The pid containerd is given for a process: the pod holder's (a host process), the guest's only
    /// when no holder runs (unit tests of the logic above the host).</summary>
    private uint TaskPid(int guestPid) => _sandbox.Holder is { } holder ? (uint)holder.Pid : (uint)guestPid;

    private string HookState(PodContainer container, string status) =>
        OciHooks.StateJson(container.Bundle.Spec.OciVersion, container.Id, status, _sandbox.Holder?.Pid ?? 0, container.Bundle.Path, container.Bundle.Spec.Annotations);
}
