namespace Stencil.Runtime.Lifecycle;

/// <summary>The sandbox API's view of a pod (containerd's order of calls), apart from the VM's own <see cref="PodLifecycle"/>.</summary>
public enum SandboxApiState
{
    /// <summary>No CreateSandbox yet (a pod run with a pause container stays here).</summary>
    None,
    Created,
    Starting,
    Ready,
    Stopped,
    ShutDown,
}

/// <summary>
/// The state machine of a sandbox served through containerd's sandbox API. Illegal moves fail with a plain
/// message naming the sandbox and its state. Thread-safe.
/// </summary>
/// <remarks>
/// None --create--> Created --begin start--> Starting --started--> Ready --stop--> Stopped --shutdown--> ShutDown
/// Starting --start failed--> Stopped; Created --stop--> Stopped; Created, Ready, Stopped --shutdown--> ShutDown
/// </remarks>
public sealed class SandboxApiLifecycle
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<ExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _id;

    public SandboxApiLifecycle(string id) => _id = id;

    public SandboxApiState State { get; private set; } = SandboxApiState.None;

    public DateTimeOffset CreatedAt { get; private set; }

    public uint Pid { get; private set; }

    /// <summary>Completes when the sandbox stops (0) or its VM dies (255).</summary>
    public Task<ExitStatus> Exited => _exited.Task;

    /// <summary>Whether the sandbox holds the pod (its VM must outlive the pod's containers).</summary>
    public bool Holds
    {
        get
        {
            lock (_gate)
                return State is not (SandboxApiState.None or SandboxApiState.ShutDown);
        }
    }

    public void Create()
    {
        lock (_gate)
        {
            if (State != SandboxApiState.None)
                throw StencilException.AlreadyExists($"sandbox {_id} already exists ({Name(State)})");
            State = SandboxApiState.Created;
            CreatedAt = DateTimeOffset.UtcNow;
        }
    }

    public void BeginStart()
    {
        lock (_gate)
        {
            Require(State == SandboxApiState.Created, "start");
            State = SandboxApiState.Starting;
        }
    }

    public void Started(uint pid)
    {
        lock (_gate)
        {
            Require(State == SandboxApiState.Starting, "finish starting");
            Pid = pid;
            State = SandboxApiState.Ready;
        }
    }

    public void StartFailed()
    {
        lock (_gate)
        {
            if (State == SandboxApiState.Starting)
                State = SandboxApiState.Stopped;
        }
        _exited.TrySetResult(new ExitStatus(0, 255, DateTimeOffset.UtcNow));
    }

    /// <summary>Created, Ready -> Stopped; false when it was stopped already (Stop is idempotent, as containerd expects).</summary>
    public bool Stop()
    {
        lock (_gate)
        {
            if (State is SandboxApiState.Stopped or SandboxApiState.ShutDown)
                return false;
            Require(State is SandboxApiState.Created or SandboxApiState.Ready, "stop");
            State = SandboxApiState.Stopped;
            return true;
        }
    }

    /// <summary>The stop has finished (the VM is gone): Wait returns 0.</summary>
    public void StopCompleted() => _exited.TrySetResult(new ExitStatus(Pid, 0, DateTimeOffset.UtcNow));

    /// <summary>The VM died by itself: Wait returns 255 and the sandbox is no longer ready.</summary>
    public void VmDied()
    {
        lock (_gate)
        {
            if (State == SandboxApiState.Ready)
                State = SandboxApiState.Stopped;
        }
        _exited.TrySetResult(new ExitStatus(Pid, 255, DateTimeOffset.UtcNow));
    }

    /// <summary>Any state but None -> ShutDown; returns the state it left.</summary>
    public SandboxApiState Shutdown()
    {
        lock (_gate)
        {
            Require(State != SandboxApiState.None, "shut down");
            var was = State;
            State = SandboxApiState.ShutDown;
            _exited.TrySetResult(new ExitStatus(Pid, 0, DateTimeOffset.UtcNow));
            return was;
        }
    }

    /// <summary>Throws NotFound unless <paramref name="id"/> is this sandbox and it was created.</summary>
    public void RequireId(string id)
    {
        lock (_gate)
        {
            if (id != _id || State == SandboxApiState.None)
                throw StencilException.NotFound($"sandbox \"{id}\" not found");
        }
    }

    private static string Name(SandboxApiState s) => s.ToString().ToLowerInvariant();

    private void Require(bool allowed, string action)
    {
        if (!allowed)
            throw StencilException.FailedPrecondition($"cannot {action} sandbox {_id} in {Name(State)} state");
    }
}
