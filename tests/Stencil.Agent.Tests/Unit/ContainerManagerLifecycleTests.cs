using System.Text;
using Stencil.Agent.Tests.Unit.Fakes;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>Start, pause, resume, update, signals, wait and removal of a created container. Against fakes: no VM, no crun, no mounts.</summary>
[Trait("Category", "Unit")]
public class ContainerManagerLifecycleTests
{
    private readonly ContainerManagerHarness _h = new();

    [Fact]
    public async Task Start_twice_is_refused_with_a_plain_message()
    {
        await _h.CreateRunningAsync();

        await AssertFailsAsync(ErrorKind.FailedPrecondition, "cannot start container \"c1\" in running state",
            () => _h.Manager.StartAsync("c1", CancellationToken.None));
        Assert.Equal(["start c1"], _h.Crun.Calls.Skip(1));
    }

    [Fact]
    public async Task Pause_of_a_created_container_is_refused_and_pause_resume_of_a_running_one_call_the_runtime()
    {
        await _h.CreateAsync();
        await AssertFailsAsync(ErrorKind.FailedPrecondition, "cannot pause container \"c1\" in created state",
            () => _h.Manager.PauseAsync("c1", CancellationToken.None));

        await _h.Manager.StartAsync("c1", CancellationToken.None);
        await _h.Manager.PauseAsync("c1", CancellationToken.None);
        await _h.Manager.ResumeAsync("c1", CancellationToken.None);

        Assert.Equal(["start c1", "pause c1", "resume c1"], _h.Crun.Calls.Skip(1));
    }

    [Fact]
    public async Task Wait_returns_the_exit_the_reaper_reports()
    {
        var pid = await _h.CreateRunningAsync();
        var wait = _h.Manager.WaitAsync("c1", "", CancellationToken.None);
        Assert.False(wait.IsCompleted);

        var expected = _h.Reaper.Exit(pid, 137);

        Assert.Equal(expected, await wait);
    }

    [Fact]
    public async Task A_signal_to_an_exited_process_is_NotFound()
    {
        var pid = await _h.CreateRunningAsync();
        _h.Syscalls.LivePids.Add(pid);
        await _h.Manager.SignalAsync("c1", "", 15, all: false, CancellationToken.None);
        Assert.Equal([(pid, 15)], _h.Syscalls.Signals);

        _h.Reaper.Exit(pid, 0);
        await AssertFailsAsync(ErrorKind.NotFound, "init process of container \"c1\" has already exited",
            () => _h.Manager.SignalAsync("c1", "", 15, all: false, CancellationToken.None));
        Assert.Single(_h.Syscalls.Signals);
    }

    [Fact]
    public async Task A_signal_to_all_goes_through_the_runtime()
    {
        await _h.CreateRunningAsync();

        await _h.Manager.SignalAsync("c1", "", 9, all: true, CancellationToken.None);

        Assert.Equal("kill --all c1 9", _h.Crun.Calls[^1]);
        Assert.Empty(_h.Syscalls.Signals);
    }

    [Fact]
    public async Task Remove_of_a_running_container_is_refused_without_force()
    {
        await _h.CreateRunningAsync();

        await AssertFailsAsync(ErrorKind.FailedPrecondition, "cannot remove container \"c1\" in running state (stop it first or force)",
            () => _h.Manager.RemoveAsync("c1", force: false, CancellationToken.None));
        Assert.Equal(1, _h.Manager.Count);
        Assert.DoesNotContain(_h.Crun.Calls, c => c.StartsWith("delete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forced_remove_of_a_running_container_kills_it_with_the_runtime_and_cleans_up()
    {
        var pid = await _h.CreateRunningAsync();
        // crun delete --force kills the init; the reaper then sees it go.
        _h.Crun.OnSuccess = verb =>
        {
            if (verb == "delete")
                _h.Reaper.Exit(pid, 137);
        };

        await _h.Manager.RemoveAsync("c1", force: true, CancellationToken.None);

        Assert.Equal("delete --force c1", _h.Crun.Calls[^1]);
        Assert.Equal(0, _h.Manager.Count);
        Assert.Empty(_h.Syscalls.Mounted);
        Assert.False(_h.Syscalls.DirectoryExists(Bundle));
        Assert.Empty(_h.Oom.Watched);
        var ex = Assert.Throws<StencilException>(() => _h.Manager.Process("c1", ""));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
    }

    [Fact]
    public async Task Remove_of_a_stopped_container_needs_no_force()
    {
        var pid = await _h.CreateRunningAsync();
        _h.Reaper.Exit(pid, 0);

        await EventuallyAsync(() => _h.Manager.RemoveAsync("c1", force: false, CancellationToken.None));

        Assert.Equal("delete --force c1", _h.Crun.Calls[^1]);
        Assert.Equal(0, _h.Manager.Count);
        Assert.False(_h.Syscalls.DirectoryExists(Bundle));
    }

    [Fact]
    public async Task A_bundle_with_a_mount_left_under_it_is_not_deleted()
    {
        var pid = await _h.CreateRunningAsync();
        _h.Reaper.Exit(pid, 0);
        _h.Syscalls.Mounted.Add($"{Bundle}/stuck");

        await _h.Manager.RemoveAsync("c1", force: true, CancellationToken.None);

        Assert.True(_h.Syscalls.DirectoryExists(Bundle));
        Assert.Contains($"warn: {Bundle} still has mounts; left in place", _h.Log.Lines);
        Assert.Equal(0, _h.Manager.Count);
    }

    [Fact]
    public async Task Remove_all_removes_every_container_and_logs_what_it_could_not()
    {
        await _h.CreateAsync("c1");
        await _h.CreateAsync("c2");
        _h.Crun.Failing.Add("delete");
        _h.Crun.OnSuccess = null;

        await _h.Manager.RemoveAllAsync(CancellationToken.None);

        Assert.Contains("warn: removing container c1: crun delete --force c1 failed: simulated failure", _h.Log.Lines);
        Assert.Contains("warn: removing container c2: crun delete --force c2 failed: simulated failure", _h.Log.Lines);
        Assert.Equal(2, _h.Manager.Count);
    }

    [Fact]
    public async Task Update_writes_the_resources_next_to_the_bundle_and_refuses_what_is_not_an_object()
    {
        await _h.CreateRunningAsync();

        await _h.Manager.UpdateAsync("c1", Encoding.UTF8.GetBytes("""{"memory":{"limit":1}}"""), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<StencilException>(() => _h.Manager.UpdateAsync("c1", Encoding.UTF8.GetBytes("[]"), CancellationToken.None));

        Assert.Equal($"update --resources {Bundle}/resources.json c1", _h.Crun.Calls[^1]);
        Assert.Equal("""{"memory":{"limit":1}}""", _h.Syscalls.Files[$"{Bundle}/resources.json"]);
        Assert.Equal("resources_json is a JSON Array, expected an object", ex.Message);
    }
}
