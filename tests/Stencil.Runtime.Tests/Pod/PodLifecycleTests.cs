using Stencil.Runtime.Lifecycle;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>The pod's VM lifecycle, move by move: the legal ones, and the plain message of each illegal one.</summary>
[Trait("Category", "Unit")]
public sealed class PodLifecycleTests
{
    private readonly PodLifecycle _pod = new("p1");
    private readonly FakePodVm _vm = new("/shared");

    private static string Refused(Action move) => Assert.Throws<StencilException>(move).Message;

    [Fact]
    public void A_new_pod_is_empty_and_has_no_VM_to_call()
    {
        Assert.Equal(PodState.Empty, _pod.State);
        Assert.Null(_pod.Vm);
        var e = Assert.Throws<StencilException>(() => _pod.RequireVm());
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal("pod p1 has no VM (empty state)", e.Message);
    }

    [Fact]
    public void Start_then_ready_gives_the_VM()
    {
        _pod.BeginVmStart();
        Assert.Equal(PodState.StartingVm, _pod.State);
        Assert.Equal("pod p1 has no VM (startingvm state)", Refused(() => _pod.RequireVm()));
        _pod.VmReady(_vm);
        Assert.Equal(PodState.Ready, _pod.State);
        Assert.Same(_vm, _pod.RequireVm());
    }

    [Fact]
    public void A_failed_start_goes_back_to_empty()
    {
        _pod.BeginVmStart();
        _pod.VmStartFailed();
        Assert.Equal(PodState.Empty, _pod.State);
        _pod.BeginVmStart(); // and may be tried again
    }

    [Fact]
    public void Only_one_start_at_a_time()
    {
        _pod.BeginVmStart();
        Assert.Equal("cannot start a VM for pod p1 in startingvm state", Refused(_pod.BeginVmStart));
    }

    [Fact]
    public void Ready_without_a_start_is_refused() =>
        Assert.Equal("cannot finish starting the VM of pod p1 in empty state", Refused(() => _pod.VmReady(_vm)));

    [Fact]
    public void A_VM_that_dies_fails_the_pod_and_calls_get_the_reason()
    {
        _pod.BeginVmStart();
        _pod.VmReady(_vm);
        Assert.True(_pod.VmDied(_vm, "qemu exited with code 1"));
        Assert.False(_pod.VmDied(_vm, "again"), "a second report counts");

        Assert.Equal(PodState.Failed, _pod.State);
        Assert.Equal("qemu exited with code 1", _pod.FailureReason);
        var e = Assert.Throws<StencilException>(() => _pod.RequireVm());
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal("the VM of pod p1 is gone: qemu exited with code 1", e.Message);
        Assert.Equal("the VM of pod p1 is gone: qemu exited with code 1", Refused(_pod.BeginVmStart));
    }

    [Fact]
    public void The_death_of_a_VM_that_is_no_longer_the_pods_is_ignored()
    {
        _pod.BeginVmStart();
        _pod.VmReady(_vm);
        _pod.BeginStop();
        Assert.False(_pod.VmDied(_vm, "stopped on purpose"));
        Assert.Equal(PodState.Stopping, _pod.State);
    }

    [Fact]
    public void Stop_hands_over_the_VM_and_ends_empty_from_ready_failed_or_empty()
    {
        _pod.BeginVmStart();
        _pod.VmReady(_vm);
        Assert.Same(_vm, _pod.BeginStop());
        Assert.Null(_pod.Vm);
        _pod.StopCompleted();
        Assert.Equal(PodState.Empty, _pod.State);

        Assert.Null(_pod.BeginStop()); // nothing to stop: the pod's folders still go
        _pod.StopCompleted();

        _pod.BeginVmStart();
        _pod.VmReady(_vm);
        _pod.VmDied(_vm, "crash");
        Assert.Same(_vm, _pod.BeginStop());
        _pod.StopCompleted();
        Assert.Null(_pod.FailureReason);
    }

    [Fact]
    public void A_stop_while_starting_or_stopping_is_refused()
    {
        _pod.BeginVmStart();
        Assert.Equal("cannot stop pod p1 in startingvm state", Refused(() => _pod.BeginStop()));
        _pod.VmReady(_vm);
        _pod.BeginStop();
        Assert.Equal("cannot stop pod p1 in stopping state", Refused(() => _pod.BeginStop()));
        Assert.Equal("cannot start a VM for pod p1 in stopping state", Refused(_pod.BeginVmStart));
    }

    [Fact]
    public void A_closed_pod_stays_stopped()
    {
        _pod.Close();
        Assert.Equal(PodState.Stopped, _pod.State);
        Assert.Equal("cannot start a VM for pod p1 in stopped state", Refused(_pod.BeginVmStart));
        Assert.Equal("cannot finish stopping pod p1 in stopped state", Refused(_pod.StopCompleted));
    }
}
