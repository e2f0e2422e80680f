using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Lifecycle;

/// <summary>
/// The state machine of a pod's VM. Illegal moves fail with a plain message naming the pod and its
/// state ("cannot start a VM for pod p1 in stopping state"). Thread-safe: every move happens under one lock.
/// </summary>
/// <remarks>
/// Empty --begin start--> StartingVm --ready--> Ready --died--> Failed
/// StartingVm --start failed--> Empty
/// Empty, Ready, Failed --begin stop--> Stopping --stopped--> Empty
/// any --close--> Stopped (terminal)
/// </remarks>
public sealed class PodLifecycle
{
    private readonly object _gate = new();
    private readonly string _podId;
    private IPodVm? _vm;

    public PodLifecycle(string podId) => _podId = podId;

    public PodState State { get; private set; } = PodState.Empty;

    /// <summary>Why the VM died (Failed only).</summary>
    public string? FailureReason { get; private set; }

    /// <summary>The VM, in Ready or Failed; else null.</summary>
    public IPodVm? Vm
    {
        get
        {
            lock (_gate)
                return _vm;
        }
    }

    /// <summary>Empty -> StartingVm. A pod whose VM died does not get a second one silently.</summary>
    public void BeginVmStart()
    {
        lock (_gate)
        {
            if (State == PodState.Failed)
                throw GoneException();
            Require(State == PodState.Empty, "start a VM for");
            State = PodState.StartingVm;
        }
    }

    /// <summary>StartingVm -> Empty: nothing was kept of the attempt.</summary>
    public void VmStartFailed()
    {
        lock (_gate)
        {
            if (State == PodState.StartingVm)
                State = PodState.Empty;
        }
    }

    /// <summary>StartingVm -> Ready.</summary>
    public void VmReady(IPodVm vm)
    {
        lock (_gate)
        {
            Require(State == PodState.StartingVm, "finish starting the VM of");
            _vm = vm;
            State = PodState.Ready;
        }
    }

    /// <summary>Ready -> Failed when <paramref name="vm"/> is still the pod's VM; a VM stopped on purpose is not a failure.</summary>
    /// <returns>True when this call recorded the failure.</returns>
    public bool VmDied(IPodVm vm, string reason)
    {
        lock (_gate)
        {
            if (State != PodState.Ready || !ReferenceEquals(_vm, vm))
                return false;
            FailureReason = reason;
            State = PodState.Failed;
            return true;
        }
    }

    /// <summary>Empty, Ready or Failed -> Stopping; returns the VM to stop (null when there is none).</summary>
    public IPodVm? BeginStop()
    {
        lock (_gate)
        {
            Require(State is PodState.Empty or PodState.Ready or PodState.Failed, "stop");
            State = PodState.Stopping;
            var vm = _vm;
            _vm = null;
            return vm;
        }
    }

    /// <summary>Stopping -> Empty: a later container starts a new VM.</summary>
    public void StopCompleted()
    {
        lock (_gate)
        {
            Require(State == PodState.Stopping, "finish stopping");
            FailureReason = null;
            State = PodState.Empty;
        }
    }

    /// <summary>Any -> Stopped, for good (the runtime is disposed).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _vm = null;
            State = PodState.Stopped;
        }
    }

    /// <summary>The VM for a call into the guest: Ready gives it; Failed is Unavailable with the reason; else FailedPrecondition.</summary>
    public IPodVm RequireVm()
    {
        lock (_gate)
        {
            return State switch
            {
                PodState.Ready => _vm!,
                PodState.Failed => throw GoneException(),
                _ => throw StencilException.FailedPrecondition($"pod {_podId} has no VM ({State.ToString().ToLowerInvariant()} state)"),
            };
        }
    }

    private StencilException GoneException() => StencilException.Unavailable($"the VM of pod {_podId} is gone: {FailureReason}");

    private void Require(bool allowed, string action)
    {
        if (!allowed)
            throw StencilException.FailedPrecondition($"cannot {action} pod {_podId} in {State.ToString().ToLowerInvariant()} state");
    }
}
