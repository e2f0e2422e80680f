using Stencil.Agent.Tests.Unit.Fakes;
using Stencil.Agent.Tests.Vm;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>ExecProcess: the process file, the runtime call, the exec's id and exit. Against fakes: no VM, no crun, no mounts.</summary>
[Trait("Category", "Unit")]
public class ContainerManagerExecTests
{
    private readonly ContainerManagerHarness _h = new();

    [Fact]
    public async Task Exec_in_an_unknown_container_is_NotFound()
    {
        await AssertFailsAsync(ErrorKind.NotFound, "container \"nope\" not found",
            () => _h.Manager.ExecAsync("nope", "e1", TestSpecs.ProcessJson(["ls"]), CancellationToken.None));
        Assert.Empty(_h.Crun.Calls);
    }

    [Fact]
    public async Task Exec_runs_the_runtime_with_a_process_file_and_its_exit_can_be_waited_for()
    {
        await _h.CreateRunningAsync();

        var pid = await _h.Manager.ExecAsync("c1", "e1", TestSpecs.ProcessJson(["ls"]), CancellationToken.None);

        Assert.Equal(101, pid);
        Assert.Equal($"exec --detach --pid-file {Bundle}/exec-e1.pid --process {Bundle}/exec-e1.json c1", _h.Crun.Calls[^1]);
        Assert.Contains("\"args\":[\"ls\"]", _h.Syscalls.Files[$"{Bundle}/exec-e1.json"]);
        var expected = _h.Reaper.Exit(pid, 2);
        Assert.Equal(expected, await _h.Manager.WaitAsync("c1", "e1", CancellationToken.None));
    }

    [Fact]
    public async Task Exec_in_a_created_container_is_refused()
    {
        await _h.CreateAsync();

        await AssertFailsAsync(ErrorKind.FailedPrecondition, "cannot exec in container \"c1\" in created state",
            () => _h.Manager.ExecAsync("c1", "e1", TestSpecs.ProcessJson(["ls"]), CancellationToken.None));
    }

    [Fact]
    public async Task An_exec_the_runtime_fails_frees_its_id()
    {
        await _h.CreateRunningAsync();
        _h.Crun.Failing.Add("exec");

        await Assert.ThrowsAsync<StencilException>(() => _h.Manager.ExecAsync("c1", "e1", TestSpecs.ProcessJson(["ls"]), CancellationToken.None));

        var ex = Assert.Throws<StencilException>(() => _h.Manager.Process("c1", "e1"));
        Assert.Equal("exec \"e1\" not found in container \"c1\"", ex.Message);
        _h.Crun.Failing.Clear();
        Assert.Equal(101, await _h.Manager.ExecAsync("c1", "e1", TestSpecs.ProcessJson(["ls"]), CancellationToken.None));
    }
}
