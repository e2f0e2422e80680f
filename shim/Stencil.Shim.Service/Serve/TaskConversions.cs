using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Cgroups;
using Stencil.Protocols.Containerd.Task;
using Stencil.Runtime;
using ProtoMount = Stencil.Protocols.Containerd.Types.Mount;
using ProtoStatus = Stencil.Protocols.Containerd.Types.V1.Status;
using ProcessInfo = Stencil.Protocols.Containerd.Types.V1.ProcessInfo;

namespace Stencil.Shim.Serve;

/// <summary>
/// Pure conversions between containerd's task API messages and the runtime's records. Protobuf stops
/// here: nothing below the Task service sees it.
/// </summary>
internal static class TaskConversions
{
    /// <summary>The bare type URL `ctr task metrics` and CRI decode Task.Stats with.</summary>
    public const string MetricsTypeUrl = "io.containerd.cgroups.v1.Metrics";

    /// <summary>
    /// Go's zero time.Time (0001-01-01T00:00:00Z), which is what containerd sends and expects for
    /// "not exited yet"; an absent timestamp would read as the Unix epoch instead.
    /// </summary>
    public static Timestamp GoZeroTime => new() { Seconds = -62135596800, Nanos = 0 };

    public static Timestamp ToTimestamp(DateTimeOffset? time) =>
        time is { } t ? Timestamp.FromDateTimeOffset(t) : GoZeroTime;

    /// <summary>containerd's exec_id: empty for the init process, which the runtime calls null.</summary>
    public static string? ExecId(string execId) => execId.Length == 0 ? null : execId;

    public static CreateContainerRequest ToCreate(CreateTaskRequest request)
    {
        if (request.ParentCheckpoint.Length > 0)
            throw StencilException.Unimplemented($"create {request.Id} from parent checkpoint \"{request.ParentCheckpoint}\": incremental checkpoints are not supported by stencil");
        return new CreateContainerRequest(
            request.Id,
            request.Bundle,
            request.Rootfs.Select(ToMountSpec).ToArray(),
            new StdioPaths(request.Stdin, request.Stdout, request.Stderr, request.Terminal))
        {
            Checkpoint = request.Checkpoint.Length > 0 ? request.Checkpoint : null,
        };
    }

    /// <summary>The checkpoint's folder (containerd's, or the options' image_path) and whether the task stops after it.</summary>
    public static (string Path, bool Exit) ToCheckpoint(CheckpointTaskRequest request)
    {
        var exit = false;
        var path = request.Path;
        if (request.Options is { } options && options.TypeUrl.Length > 0)
        {
            var type = options.TypeUrl[(options.TypeUrl.LastIndexOf('/') + 1)..];
            if (type != Stencil.Protocols.Containerd.Runc.CheckpointOptions.Descriptor.FullName)
                throw StencilException.InvalidArgument($"checkpoint {request.Id}: options of type {type} are not understood (expected {Stencil.Protocols.Containerd.Runc.CheckpointOptions.Descriptor.FullName})");
            var parsed = Stencil.Protocols.Containerd.Runc.CheckpointOptions.Parser.ParseFrom(options.Value);
            exit = parsed.Exit;
            if (parsed.ImagePath.Length > 0)
                path = parsed.ImagePath;
        }
        if (path.Length == 0 || !System.IO.Path.IsPathRooted(path))
            throw StencilException.InvalidArgument($"checkpoint {request.Id}: the checkpoint folder \"{path}\" is not an absolute path");
        return (path, exit);
    }

    public static MountSpec ToMountSpec(ProtoMount mount) =>
        new(mount.Type, mount.Source, mount.Target, mount.Options.ToArray());

    public static ProtoMount ToProto(MountSpec mount)
    {
        var result = new ProtoMount { Type = mount.Type, Source = mount.Source, Target = mount.Target };
        result.Options.AddRange(mount.Options);
        return result;
    }

    public static ExecRequest ToExec(ExecProcessRequest request)
    {
        if (request.Spec is null || request.Spec.Value.IsEmpty)
            throw StencilException.InvalidArgument($"exec {request.ExecId} in {request.Id}: the request carries no process spec");
        return new ExecRequest(
            request.Id,
            request.ExecId,
            new StdioPaths(request.Stdin, request.Stdout, request.Stderr, request.Terminal),
            request.Spec.Value.Memory);
    }

    public static StateResponse ToState(ProcessStatus status) => new()
    {
        Id = status.Id,
        ExecId = status.ExecId,
        Bundle = status.Bundle,
        Pid = status.Pid,
        Status = ToProto(status.State),
        Stdin = status.Stdio.Stdin,
        Stdout = status.Stdio.Stdout,
        Stderr = status.Stdio.Stderr,
        Terminal = status.Stdio.Terminal,
        ExitStatus = status.ExitCode,
        ExitedAt = ToTimestamp(status.ExitedAt),
    };

    public static ProtoStatus ToProto(ProcessState state) => state switch
    {
        ProcessState.Created => ProtoStatus.Created,
        ProcessState.Running => ProtoStatus.Running,
        ProcessState.Stopped => ProtoStatus.Stopped,
        ProcessState.Paused => ProtoStatus.Paused,
        ProcessState.Pausing => ProtoStatus.Pausing,
        _ => ProtoStatus.Unknown,
    };

    public static DeleteResponse ToDelete(ExitStatus exit) => new()
    {
        Pid = exit.Pid,
        ExitStatus = exit.ExitCode,
        ExitedAt = ToTimestamp(exit.ExitedAt),
    };

    public static WaitResponse ToWait(ExitStatus exit) => new()
    {
        ExitStatus = exit.ExitCode,
        ExitedAt = ToTimestamp(exit.ExitedAt),
    };

    public static PidsResponse ToPids(IReadOnlyList<uint> pids)
    {
        var response = new PidsResponse();
        response.Processes.AddRange(pids.Select(pid => new ProcessInfo { Pid = pid }));
        return response;
    }

    /// <summary>The resources of an Update: a runtime-spec LinuxResources as JSON inside an Any.</summary>
    public static ReadOnlyMemory<byte> ResourcesJson(UpdateTaskRequest request) =>
        request.Resources is null ? ReadOnlyMemory<byte>.Empty : request.Resources.Value.Memory;

    public static StatsResponse ToStats(ContainerStats stats) => new()
    {
        Stats = new Any { TypeUrl = MetricsTypeUrl, Value = ToMetrics(stats).ToByteString() },
    };

    public static Metrics ToMetrics(ContainerStats stats)
    {
        var blkio = new BlkIOStat();
        blkio.IoServiceBytesRecursive.Add(new BlkIOEntry { Op = "Read", Value = stats.IoReadBytes });
        blkio.IoServiceBytesRecursive.Add(new BlkIOEntry { Op = "Write", Value = stats.IoWriteBytes });
        return new Metrics
        {
            Pids = new PidsStat { Current = stats.PidsCurrent, Limit = stats.PidsLimit },
            Cpu = new CPUStat
            {
                Usage = new CPUUsage { Total = stats.CpuUsageNanos, Kernel = stats.CpuSystemNanos, User = stats.CpuUserNanos },
            },
            Memory = new MemoryStat
            {
                Cache = stats.MemoryCacheBytes,
                TotalCache = stats.MemoryCacheBytes,
                Rss = stats.MemoryRssBytes,
                TotalRss = stats.MemoryRssBytes,
                PgFault = stats.MemoryPageFaults,
                TotalPgFault = stats.MemoryPageFaults,
                PgMajFault = stats.MemoryMajorPageFaults,
                TotalPgMajFault = stats.MemoryMajorPageFaults,
                InactiveFile = stats.MemoryInactiveFileBytes,
                TotalInactiveFile = stats.MemoryInactiveFileBytes,
                // 0 is "no limit" below the service edge; cgroups v1 metrics (and containerd's CRI, which
                // computes available = limit - working set) expect the all-ones value for that.
                Usage = new MemoryEntry { Usage = stats.MemoryUsageBytes, Limit = stats.MemoryLimitBytes == 0 ? ulong.MaxValue : stats.MemoryLimitBytes },
            },
            Blkio = blkio,
        };
    }
}
