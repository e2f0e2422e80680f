using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Cgroups;
using Stencil.Protocols.Containerd.Task;
using Stencil.Runtime;
using Stencil.Shim.Serve;
using Ev = Stencil.Protocols.Containerd.Events;
using ProtoStatus = Stencil.Protocols.Containerd.Types.V1.Status;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class ConversionTests
{
    private static readonly DateTimeOffset s_exit = new(2026, 11, 25, 20, 0, 1, TimeSpan.Zero);

    [Fact]
    public void A_process_that_has_not_exited_reports_Go_zero_time()
    {
        var state = TaskConversions.ToState(new ProcessStatus("c1", "", "/b", 7, ProcessState.Running,
            new StdioPaths("/i", "/o", "/e", false), 0, null));

        Assert.Equal(-62135596800, state.ExitedAt.Seconds);
        Assert.Equal(0, state.ExitedAt.Nanos);
        Assert.Equal(ProtoStatus.Running, state.Status);
        Assert.Equal(("c1", "/b", 7u, "/i", "/o", "/e"), (state.Id, state.Bundle, state.Pid, state.Stdin, state.Stdout, state.Stderr));
    }

    [Fact]
    public void Go_zero_time_is_year_one()
    {
        Assert.Equal(new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc), TaskConversions.GoZeroTime.ToDateTime());
    }

    [Fact]
    public void An_exited_process_reports_its_exit()
    {
        var state = TaskConversions.ToState(new ProcessStatus("c1", "e1", "/b", 7, ProcessState.Stopped,
            new StdioPaths("", "", "", true), 137, s_exit));

        Assert.Equal(Timestamp.FromDateTimeOffset(s_exit), state.ExitedAt);
        Assert.Equal((137u, ProtoStatus.Stopped, "e1", true), (state.ExitStatus, state.Status, state.ExecId, state.Terminal));
    }

    [Theory]
    [InlineData(ProcessState.Unknown, ProtoStatus.Unknown)]
    [InlineData(ProcessState.Created, ProtoStatus.Created)]
    [InlineData(ProcessState.Running, ProtoStatus.Running)]
    [InlineData(ProcessState.Stopped, ProtoStatus.Stopped)]
    [InlineData(ProcessState.Paused, ProtoStatus.Paused)]
    [InlineData(ProcessState.Pausing, ProtoStatus.Pausing)]
    public void States_map_one_to_one(ProcessState state, ProtoStatus status) => Assert.Equal(status, TaskConversions.ToProto(state));

    [Fact]
    public void Create_carries_mounts_and_stdio()
    {
        var request = new CreateTaskRequest { Id = "c1", Bundle = "/b", Stdin = "/i", Stdout = "/o", Stderr = "/e", Terminal = true };
        request.Rootfs.Add(new Protocols.Containerd.Types.Mount { Type = "overlay", Source = "overlay", Options = { "lowerdir=/l", "upperdir=/u", "workdir=/w" } });

        var create = TaskConversions.ToCreate(request);

        Assert.Equal(("c1", "/b"), (create.Id, create.Bundle));
        Assert.Equal(new StdioPaths("/i", "/o", "/e", true), create.Stdio);
        var mount = Assert.Single(create.RootfsMounts);
        Assert.Equal(("overlay", "overlay", ""), (mount.Type, mount.Source, mount.Target));
        Assert.Equal(["lowerdir=/l", "upperdir=/u", "workdir=/w"], mount.Options);
    }

    [Fact]
    public void Create_from_a_checkpoint_carries_its_folder_and_a_parent_checkpoint_is_unimplemented()
    {
        Assert.Equal("/cp", TaskConversions.ToCreate(new CreateTaskRequest { Id = "c1", Checkpoint = "/cp" }).Checkpoint);
        Assert.Null(TaskConversions.ToCreate(new CreateTaskRequest { Id = "c1" }).Checkpoint);
        var ex = Assert.Throws<StencilException>(() => TaskConversions.ToCreate(new CreateTaskRequest { Id = "c1", ParentCheckpoint = "/p" }));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Equal("create c1 from parent checkpoint \"/p\": incremental checkpoints are not supported by stencil", ex.Message);
    }

    [Fact]
    public void Checkpoint_options_give_exit_and_image_path()
    {
        var options = new Stencil.Protocols.Containerd.Runc.CheckpointOptions { Exit = true };
        var any = new Google.Protobuf.WellKnownTypes.Any { TypeUrl = "containerd.runc.v1.CheckpointOptions", Value = options.ToByteString() };
        Assert.Equal(("/tmp/ctrd-checkpoint1", true), TaskConversions.ToCheckpoint(new CheckpointTaskRequest { Id = "c1", Path = "/tmp/ctrd-checkpoint1", Options = any }));
        options.Exit = false;
        options.ImagePath = "/srv/cp";
        any.Value = options.ToByteString();
        Assert.Equal(("/srv/cp", false), TaskConversions.ToCheckpoint(new CheckpointTaskRequest { Id = "c1", Path = "/tmp/x", Options = any }));
        Assert.Equal(("/tmp/x", false), TaskConversions.ToCheckpoint(new CheckpointTaskRequest { Id = "c1", Path = "/tmp/x" }));

        var relative = Assert.Throws<StencilException>(() => TaskConversions.ToCheckpoint(new CheckpointTaskRequest { Id = "c1", Path = "cp" }));
        Assert.Equal("checkpoint c1: the checkpoint folder \"cp\" is not an absolute path", relative.Message);
        var other = Assert.Throws<StencilException>(() => TaskConversions.ToCheckpoint(new CheckpointTaskRequest
        {
            Id = "c1",
            Path = "/x",
            Options = new Google.Protobuf.WellKnownTypes.Any { TypeUrl = "example.Other" },
        }));
        Assert.Equal(ErrorKind.InvalidArgument, other.Kind);
    }

    [Fact]
    public void Exec_takes_the_process_json_from_the_spec_any()
    {
        var json = """{"args":["sh"],"cwd":"/"}"""u8.ToArray();
        var request = new ExecProcessRequest
        {
            Id = "c1", ExecId = "e1", Stdout = "/o",
            Spec = new Any { TypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Process", Value = ByteString.CopyFrom(json) },
        };

        var exec = TaskConversions.ToExec(request);

        Assert.Equal(("c1", "e1", "/o"), (exec.Id, exec.ExecId, exec.Stdio.Stdout));
        Assert.Equal(json, exec.ProcessJson.ToArray());
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<StencilException>(() => TaskConversions.ToExec(new ExecProcessRequest { Id = "c1" })).Kind);
    }

    [Fact]
    public void No_memory_limit_is_the_all_ones_value_containerd_treats_as_unlimited()
    {
        var stats = TaskConversions.ToStats(new ContainerStats(10, 6, 4, 100, 0, 30, 3, 50, 1000, 2000));
        Assert.Equal(ulong.MaxValue, Metrics.Parser.ParseFrom(stats.Stats.Value).Memory.Usage.Limit);
    }

    [Fact]
    public void Stats_are_cgroups_v1_metrics_under_a_bare_type_url()
    {
        var stats = TaskConversions.ToStats(new ContainerStats(10, 6, 4, 100, 200, 30, 3, 50, 1000, 2000) { MemoryRssBytes = 70, MemoryPageFaults = 900, MemoryMajorPageFaults = 9, MemoryInactiveFileBytes = 20 });

        Assert.Equal("io.containerd.cgroups.v1.Metrics", stats.Stats.TypeUrl);
        var metrics = Metrics.Parser.ParseFrom(stats.Stats.Value);
        Assert.Equal((10ul, 4ul, 6ul), (metrics.Cpu.Usage.Total, metrics.Cpu.Usage.Kernel, metrics.Cpu.Usage.User));
        Assert.Equal((100ul, 200ul, 30ul), (metrics.Memory.Usage.Usage, metrics.Memory.Usage.Limit, metrics.Memory.Cache));
        Assert.Equal((70ul, 70ul), (metrics.Memory.Rss, metrics.Memory.TotalRss));
        // containerd's CRI reads the total_* fields: page faults, and working set = usage - total_inactive_file.
        Assert.Equal((900ul, 9ul, 20ul), (metrics.Memory.TotalPgFault, metrics.Memory.TotalPgMajFault, metrics.Memory.TotalInactiveFile));
        Assert.Equal((3ul, 50ul), (metrics.Pids.Current, metrics.Pids.Limit));
        Assert.Equal([("Read", 1000ul), ("Write", 2000ul)], metrics.Blkio.IoServiceBytesRecursive.Select(e => (e.Op, e.Value)));
    }

    [Fact]
    public void Metrics_field_numbers_match_containerd_cgroups()
    {
        // Metrics{ pids(2) = { current(1) = 3 } }: 0x12 0x02 0x08 0x03
        var bytes = new Metrics { Pids = new PidsStat { Current = 3 } }.ToByteArray();

        Assert.Equal(new byte[] { 0x12, 0x02, 0x08, 0x03 }, bytes);
        // MemoryStat.usage is field 33: tag (33 << 3 | 2) = 0x10a, varint 0x8a 0x02.
        Assert.Equal(new byte[] { 0x8a, 0x02, 0x02, 0x10, 0x05 }, new MemoryStat { Usage = new MemoryEntry { Usage = 5 } }.ToByteArray());
        // total_pg_fault 26 (0xd0 0x01), total_pg_maj_fault 27 (0xd8 0x01), total_inactive_file 30 (0xf0 0x01).
        Assert.Equal(new byte[] { 0xd0, 0x01, 0x01, 0xd8, 0x01, 0x02, 0xf0, 0x01, 0x03 },
            new MemoryStat { TotalPgFault = 1, TotalPgMajFault = 2, TotalInactiveFile = 3 }.ToByteArray());
    }

    public static TheoryData<RuntimeEvent, string, string> Events => new()
    {
        { new TaskCreated(s_exit, "c1", "/b", [], new StdioPaths("", "/o", "", false), 5), "/tasks/create", "containerd.events.TaskCreate" },
        { new TaskStarted(s_exit, "c1", 5), "/tasks/start", "containerd.events.TaskStart" },
        { new TaskExited(s_exit, "c1", "", 5, 1, s_exit), "/tasks/exit", "containerd.events.TaskExit" },
        { new TaskDeleted(s_exit, "c1", 5, 1, s_exit), "/tasks/delete", "containerd.events.TaskDelete" },
        { new TaskExecAdded(s_exit, "c1", "e1"), "/tasks/exec-added", "containerd.events.TaskExecAdded" },
        { new TaskExecStarted(s_exit, "c1", "e1", 6), "/tasks/exec-started", "containerd.events.TaskExecStarted" },
        { new TaskPaused(s_exit, "c1"), "/tasks/paused", "containerd.events.TaskPaused" },
        { new TaskResumed(s_exit, "c1"), "/tasks/resumed", "containerd.events.TaskResumed" },
        { new TaskOom(s_exit, "c1"), "/tasks/oom", "containerd.events.TaskOOM" },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Every_event_has_its_topic_and_a_bare_type_url(RuntimeEvent runtimeEvent, string topic, string typeUrl)
    {
        var envelope = EventEnvelopes.ToEnvelope(runtimeEvent, "k8s.io");

        Assert.Equal(topic, envelope.Topic);
        Assert.Equal(typeUrl, envelope.Event.TypeUrl);
        Assert.Equal("k8s.io", envelope.Namespace);
        Assert.Equal(Timestamp.FromDateTimeOffset(s_exit), envelope.Timestamp);
    }

    [Fact]
    public void The_init_exit_is_named_by_the_container_id_and_an_exec_exit_by_its_exec_id()
    {
        var init = Ev.TaskExit.Parser.ParseFrom(EventEnvelopes.ToEnvelope(new TaskExited(s_exit, "c1", "", 5, 137, s_exit), "n").Event.Value);
        var exec = Ev.TaskExit.Parser.ParseFrom(EventEnvelopes.ToEnvelope(new TaskExited(s_exit, "c1", "e1", 6, 0, s_exit), "n").Event.Value);

        Assert.Equal(("c1", "c1", 5u, 137u), (init.ContainerId, init.Id, init.Pid, init.ExitStatus));
        Assert.Equal(("c1", "e1"), (exec.ContainerId, exec.Id));
    }
}
