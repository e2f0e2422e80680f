using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Cgroups;
using Stencil.Protocols.Containerd.Task;
using Stencil.Runtime;
using ProtoMount = Stencil.Protocols.Containerd.Types.Mount;
using ProtoStatus = Stencil.Protocols.Containerd.Types.V1.Status;

namespace Stencil.Shim.Tests;

/// <summary>Each Task method over a real ttRPC connection, against a fake pod runtime.</summary>
[Trait("Category", "Unit")]
public sealed class TaskServiceTests
{
    [Fact]
    public async Task Create_converts_the_request_and_returns_the_pid()
    {
        await using var h = await TaskServiceHarness.StartAsync();
        var request = new CreateTaskRequest { Id = "c1", Bundle = "/b", Stdin = "/i", Stdout = "/o", Stderr = "/e", Terminal = true };
        request.Rootfs.Add(new ProtoMount { Type = "overlay", Source = "overlay", Options = { "lowerdir=/l" } });

        var response = await h.CallAsync<CreateTaskRequest, CreateTaskResponse>("Create", request);

        Assert.Equal(42u, response.Pid);
        var create = (CreateContainerRequest)h.Runtime.Last("Create").Args[0]!;
        Assert.Equal(("c1", "/b", new StdioPaths("/i", "/o", "/e", true)), (create.Id, create.Bundle, create.Stdio));
        Assert.Equal("lowerdir=/l", Assert.Single(Assert.Single(create.RootfsMounts).Options));
    }

    [Fact]
    public async Task Start_and_Delete_pass_an_empty_exec_id_as_the_init_process()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var start = await h.CallAsync<StartRequest, StartResponse>("Start", new StartRequest { Id = "c1" });
        await h.CallAsync<StartRequest, StartResponse>("Start", new StartRequest { Id = "c1", ExecId = "e1" });
        var delete = await h.CallAsync<DeleteRequest, DeleteResponse>("Delete", new DeleteRequest { Id = "c1", ExecId = "e1" });

        Assert.Equal(42u, start.Pid);
        var starts = h.Runtime.Calls.Where(c => c.Method == "Start").Select(c => c.Args[1]).ToArray();
        Assert.Equal([null, "e1"], starts);
        Assert.Equal("e1", h.Runtime.Last("Delete").Args[1]);
        Assert.Equal((42u, 137u), (delete.Pid, delete.ExitStatus));
        Assert.Equal(Timestamp.FromDateTimeOffset(h.Runtime.Exit.ExitedAt!.Value), delete.ExitedAt);
    }

    [Fact]
    public async Task State_reports_Go_zero_time_before_the_exit()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var state = await h.CallAsync<StateRequest, StateResponse>("State", new StateRequest { Id = "c1" });

        Assert.Equal(ProtoStatus.Running, state.Status);
        Assert.Equal(-62135596800, state.ExitedAt.Seconds);
        Assert.Equal(("c1", "/bundle", 42u, "/o"), (state.Id, state.Bundle, state.Pid, state.Stdout));
    }

    [Fact]
    public async Task Pids_Pause_Resume_Kill_ResizePty_are_passed_through()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var pids = await h.CallAsync<PidsRequest, PidsResponse>("Pids", new PidsRequest { Id = "c1" });
        await h.CallAsync<PauseRequest, Empty>("Pause", new PauseRequest { Id = "c1" });
        await h.CallAsync<ResumeRequest, Empty>("Resume", new ResumeRequest { Id = "c1" });
        await h.CallAsync<KillRequest, Empty>("Kill", new KillRequest { Id = "c1", Signal = 9, All = true });
        await h.CallAsync<ResizePtyRequest, Empty>("ResizePty", new ResizePtyRequest { Id = "c1", ExecId = "e1", Width = 80, Height = 24 });

        Assert.Equal([42u, 43u], pids.Processes.Select(p => p.Pid));
        Assert.Equal(["c1"], h.Runtime.Last("Pause").Args);
        Assert.Equal(["c1"], h.Runtime.Last("Resume").Args);
        Assert.Equal(["c1", null, 9u, true], h.Runtime.Last("Kill").Args);
        Assert.Equal(["c1", "e1", 80u, 24u], h.Runtime.Last("ResizePty").Args);
    }

    [Fact]
    public async Task Exec_passes_the_process_json()
    {
        await using var h = await TaskServiceHarness.StartAsync();
        var json = """{"args":["sh"],"cwd":"/"}"""u8.ToArray();

        await h.CallAsync<ExecProcessRequest, Empty>("Exec", new ExecProcessRequest
        {
            Id = "c1", ExecId = "e1", Stdout = "/o", Terminal = true,
            Spec = new Any { TypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Process", Value = ByteString.CopyFrom(json) },
        });

        var exec = (ExecRequest)h.Runtime.Last("Exec").Args[0]!;
        Assert.Equal(("c1", "e1", "/o", true), (exec.Id, exec.ExecId, exec.Stdio.Stdout, exec.Stdio.Terminal));
        Assert.Equal(json, exec.ProcessJson.ToArray());
    }

    [Fact]
    public async Task CloseIO_closes_stdin_only_when_asked()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        await h.CallAsync<CloseIORequest, Empty>("CloseIO", new CloseIORequest { Id = "c1", ExecId = "e1", Stdin = false });
        Assert.False(h.Runtime.WasCalled("CloseStdin"));
        await h.CallAsync<CloseIORequest, Empty>("CloseIO", new CloseIORequest { Id = "c1", ExecId = "e1", Stdin = true });
        Assert.Equal(["c1", "e1"], h.Runtime.Last("CloseStdin").Args);
    }

    [Fact]
    public async Task Update_passes_resources_json_and_annotations()
    {
        await using var h = await TaskServiceHarness.StartAsync();
        var json = """{"memory":{"limit":1048576}}"""u8.ToArray();
        var request = new UpdateTaskRequest { Id = "c1", Resources = new Any { TypeUrl = "x", Value = ByteString.CopyFrom(json) } };
        request.Annotations.Add("io.stencil.a", "b");

        await h.CallAsync<UpdateTaskRequest, Empty>("Update", request);

        var args = h.Runtime.Last("Update").Args;
        Assert.Equal(json, (byte[])args[1]!);
        Assert.Equal("b", ((Dictionary<string, string>)args[2]!)["io.stencil.a"]);
    }

    [Fact]
    public async Task Stats_are_cgroups_metrics()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var stats = await h.CallAsync<StatsRequest, StatsResponse>("Stats", new StatsRequest { Id = "c1" });

        Assert.Equal("io.containerd.cgroups.v1.Metrics", stats.Stats.TypeUrl);
        Assert.Equal(10ul, Metrics.Parser.ParseFrom(stats.Stats.Value).Cpu.Usage.Total);
    }

    [Fact]
    public async Task Connect_reports_the_shim_and_task_pids()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var connect = await h.CallAsync<ConnectRequest, ConnectResponse>("Connect", new ConnectRequest { Id = "c1" });
        h.Runtime.Failure = StencilException.NotFound("container c9 not found");
        var beforeCreate = await h.CallAsync<ConnectRequest, ConnectResponse>("Connect", new ConnectRequest { Id = "c9" });

        Assert.Equal((uint)Environment.ProcessId, connect.ShimPid);
        Assert.Equal(42u, connect.TaskPid);
        Assert.NotEmpty(connect.Version);
        Assert.Equal(0u, beforeCreate.TaskPid);
    }

    [Fact]
    public async Task Shutdown_waits_for_the_last_container_unless_now()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        h.Runtime.Count = 2;
        await h.CallAsync<ShutdownRequest, Empty>("Shutdown", new ShutdownRequest { Id = "c1" });
        Assert.Equal(0, h.Shutdowns);
        await h.CallAsync<ShutdownRequest, Empty>("Shutdown", new ShutdownRequest { Id = "c1", Now = true });
        Assert.Equal(1, h.Shutdowns);
        h.Runtime.Count = 0;
        await h.CallAsync<ShutdownRequest, Empty>("Shutdown", new ShutdownRequest { Id = "c1" });
        Assert.Equal(2, h.Shutdowns);
    }

    [Fact]
    public async Task Checkpoint_reaches_the_runtime_and_a_runtime_without_it_answers_unimplemented()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            h.CallAsync<CheckpointTaskRequest, Empty>("Checkpoint", new CheckpointTaskRequest { Id = "c1", Path = "/cp" }));

        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Contains("checkpoint is not supported by this runtime", ex.Message);
    }

    [Theory]
    [InlineData(ErrorKind.NotFound)]
    [InlineData(ErrorKind.AlreadyExists)]
    [InlineData(ErrorKind.FailedPrecondition)]
    [InlineData(ErrorKind.InvalidArgument)]
    [InlineData(ErrorKind.Unavailable)]
    public async Task Runtime_errors_reach_containerd_with_their_kind_and_message(ErrorKind kind)
    {
        await using var h = await TaskServiceHarness.StartAsync();
        h.Runtime.Failure = new StencilException(kind, "cannot pause container c1 in created state");

        var pause = await Assert.ThrowsAsync<StencilException>(() => h.CallAsync<PauseRequest, Empty>("Pause", new PauseRequest { Id = "c1" }));
        var state = await Assert.ThrowsAsync<StencilException>(() => h.CallAsync<StateRequest, StateResponse>("State", new StateRequest { Id = "c1" }));

        Assert.Equal(kind, pause.Kind);
        Assert.Equal(kind, state.Kind);
        Assert.Contains("cannot pause container c1 in created state", pause.Message);
    }

    [Fact]
    public async Task State_answers_while_a_Wait_is_pending()
    {
        await using var h = await TaskServiceHarness.StartAsync();

        var wait = h.CallAsync<WaitRequest, WaitResponse>("Wait", new WaitRequest { Id = "c1" });
        await Task.Delay(50);
        var clock = Stopwatch.StartNew();
        var state = await h.CallAsync<StateRequest, StateResponse>("State", new StateRequest { Id = "c1" });
        clock.Stop();

        Assert.False(wait.IsCompleted);
        Assert.Equal(ProtoStatus.Running, state.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"State took {clock.Elapsed}"); // behind the Wait it would never answer

        h.Runtime.WaitResult.SetResult(new ExitStatus(42, 3, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var exit = await wait;
        Assert.Equal(3u, exit.ExitStatus);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), exit.ExitedAt.ToDateTime());
    }
}
