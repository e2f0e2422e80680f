using Stencil.Runtime.Lifecycle;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class ProcessLifecycleTests
{
    private static ProcessLifecycle New() => new("container c1");

    private static void AssertRefused(Action move, string message)
    {
        var ex = Assert.Throws<StencilException>(move);
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Created_starts_into_running_with_its_pid()
    {
        var p = New();
        Assert.Equal(ProcessState.Created, p.State);
        p.Started(42);
        Assert.Equal(ProcessState.Running, p.State);
        Assert.Equal(42u, p.Pid);
    }

    [Fact]
    public void Created_cannot_pause_resume_or_start_twice()
    {
        var p = New();
        AssertRefused(p.BeginPause, "cannot pause container c1 in created state");
        AssertRefused(p.EnsureCanResume, "cannot resume container c1 in created state");
        AssertRefused(() => p.EnsureRunning("exec in"), "cannot exec in container c1 in created state");
        p.Started(1);
        AssertRefused(() => p.Started(2), "cannot start container c1 in running state");
    }

    [Fact]
    public void Pause_goes_through_pausing_and_back_on_failure()
    {
        var p = New();
        p.Started(1);
        p.BeginPause();
        Assert.Equal(ProcessState.Pausing, p.State);
        p.EndPause(succeeded: false);
        Assert.Equal(ProcessState.Running, p.State);
        p.BeginPause();
        p.EndPause(succeeded: true);
        Assert.Equal(ProcessState.Paused, p.State);
        AssertRefused(p.BeginPause, "cannot pause container c1 in paused state");
        p.EnsureCanResume();
        p.Resumed();
        Assert.Equal(ProcessState.Running, p.State);
    }

    [Fact]
    public void Running_cannot_be_deleted()
    {
        var p = New();
        p.EnsureCanDelete();
        p.Started(1);
        AssertRefused(p.EnsureCanDelete, "cannot delete container c1 in running state");
    }

    [Fact]
    public async Task Exit_is_recorded_once_and_completes_waiters()
    {
        var p = New();
        p.Started(7);
        var wait = p.Exited;
        Assert.False(wait.IsCompleted);
        var at = DateTimeOffset.UtcNow;
        Assert.True(p.RecordExit(137, at));
        Assert.False(p.RecordExit(0, at.AddSeconds(1)));
        var exit = await wait;
        Assert.Equal(new ExitStatus(7, 137, at), exit);
        Assert.Equal(ProcessState.Stopped, p.State);
        p.EnsureCanDelete();
    }

    [Fact]
    public void A_finished_process_cannot_be_signalled()
    {
        var p = New();
        p.EnsureCanSignal();
        p.Started(1);
        p.RecordExit(0, DateTimeOffset.UtcNow);
        var ex = Assert.Throws<StencilException>(p.EnsureCanSignal);
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal("container c1: process already finished", ex.Message);
    }

    [Fact]
    public void A_process_killed_before_start_stops_with_pid_zero()
    {
        var p = New();
        p.RecordExit(137, DateTimeOffset.UtcNow);
        Assert.Equal(ProcessState.Stopped, p.State);
        Assert.Equal(0u, p.Exit!.Pid);
        AssertRefused(() => p.Started(3), "cannot start container c1 in stopped state");
    }
}
