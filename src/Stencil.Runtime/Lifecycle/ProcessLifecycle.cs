namespace Stencil.Runtime.Lifecycle;

/// <summary>
/// The state machine of one process (a container's init or an exec'd process), as containerd sees it.
/// Illegal moves fail with FailedPrecondition and a plain message ("cannot pause process in created
/// state"), the way containerd's own shims word it. Thread-safe: every move happens under one lock,
/// and the exit is recorded once.
/// </summary>
/// <remarks>
/// Created --start--> Running --exit--> Stopped
/// Running --pause--> Pausing --paused--> Paused --resume--> Running
/// Created, Running, Pausing, Paused --exit--> Stopped (a kill before start, or an OOM, ends it too)
/// </remarks>
public sealed class ProcessLifecycle
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<ExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ProcessLifecycle(string what) => What = what;

    /// <summary>Named in messages: "container c1", "exec e1 of container c1".</summary>
    public string What { get; }

    public ProcessState State { get; private set; } = ProcessState.Created;

    public uint Pid { get; private set; }

    public ExitStatus? Exit { get; private set; }

    /// <summary>Completes when the process exits; never faults.</summary>
    public Task<ExitStatus> Exited => _exited.Task;

    public void EnsureCanStart()
    {
        lock (_gate)
            Require(State == ProcessState.Created, "start");
    }

    public void Started(uint pid)
    {
        lock (_gate)
        {
            Require(State == ProcessState.Created, "start");
            Pid = pid;
            State = ProcessState.Running;
        }
    }

    public void BeginPause()
    {
        lock (_gate)
        {
            Require(State == ProcessState.Running, "pause");
            State = ProcessState.Pausing;
        }
    }

    /// <summary>Ends a pause: <paramref name="succeeded"/> false puts the process back to Running.</summary>
    public void EndPause(bool succeeded)
    {
        lock (_gate)
        {
            if (State == ProcessState.Pausing)
                State = succeeded ? ProcessState.Paused : ProcessState.Running;
        }
    }

    public void EnsureCanResume()
    {
        lock (_gate)
            Require(State == ProcessState.Paused, "resume");
    }

    public void Resumed()
    {
        lock (_gate)
        {
            if (State == ProcessState.Paused)
                State = ProcessState.Running;
        }
    }

    /// <summary>A signal can reach a process that has not exited; containerd expects NotFound after the exit.</summary>
    public void EnsureCanSignal()
    {
        lock (_gate)
        {
            if (State == ProcessState.Stopped)
                throw StencilException.NotFound($"{What}: process already finished");
        }
    }

    /// <summary>Execs and I/O need a live process.</summary>
    public void EnsureRunning(string action)
    {
        lock (_gate)
            Require(State is ProcessState.Running or ProcessState.Paused or ProcessState.Pausing, action);
    }

    public void EnsureCanDelete()
    {
        lock (_gate)
            Require(State is ProcessState.Created or ProcessState.Stopped, "delete");
    }

    /// <summary>Records the exit; a second report is ignored (the first one is the truth).</summary>
    /// <returns>True when this call recorded the exit.</returns>
    public bool RecordExit(uint exitCode, DateTimeOffset at)
    {
        ExitStatus status;
        lock (_gate)
        {
            if (State == ProcessState.Stopped)
                return false;
            State = ProcessState.Stopped;
            status = new ExitStatus(Pid, exitCode, at);
            Exit = status;
        }
        _exited.TrySetResult(status);
        return true;
    }

    private void Require(bool allowed, string action)
    {
        if (!allowed)
            throw StencilException.FailedPrecondition($"cannot {action} {What} in {State.ToString().ToLowerInvariant()} state");
    }
}
