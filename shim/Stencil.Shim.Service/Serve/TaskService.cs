using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.Runtime;
using Stencil.Shim.Logging;
using Stencil.Ttrpc;
using static Stencil.Shim.Serve.TaskConversions;

namespace Stencil.Shim.Serve;

/// <summary>
/// containerd.task.v2.Task (and the same methods as containerd.task.v3.Task, which containerd 2.x
/// calls when `start` announced version 3) over ttRPC: each method converts the request, calls the pod runtime and
/// converts the answer back, nothing more. Errors are the runtime's StencilExceptions, which the ttRPC
/// server maps to status codes in one place; events are the runtime's, forwarded by the publisher.
/// Calls run concurrently (a Wait blocks for as long as the process runs; State never waits behind it).
/// </summary>
internal sealed class TaskService
{
    public const string ServiceName = "containerd.task.v2.Task";

    /// <summary>containerd 2.x's name for the same service: its messages and methods are those of v2.</summary>
    public const string V3ServiceName = "containerd.task.v3.Task";


    private static readonly TtrpcMethod<StateRequest, StateResponse> s_state = new(ServiceName, "State");
    private static readonly TtrpcMethod<CreateTaskRequest, CreateTaskResponse> s_create = new(ServiceName, "Create");
    private static readonly TtrpcMethod<StartRequest, StartResponse> s_start = new(ServiceName, "Start");
    private static readonly TtrpcMethod<DeleteRequest, DeleteResponse> s_delete = new(ServiceName, "Delete");
    private static readonly TtrpcMethod<PidsRequest, PidsResponse> s_pids = new(ServiceName, "Pids");
    private static readonly TtrpcMethod<PauseRequest, Empty> s_pause = new(ServiceName, "Pause");
    private static readonly TtrpcMethod<ResumeRequest, Empty> s_resume = new(ServiceName, "Resume");
    private static readonly TtrpcMethod<CheckpointTaskRequest, Empty> s_checkpoint = new(ServiceName, "Checkpoint");
    private static readonly TtrpcMethod<KillRequest, Empty> s_kill = new(ServiceName, "Kill");
    private static readonly TtrpcMethod<ExecProcessRequest, Empty> s_exec = new(ServiceName, "Exec");
    private static readonly TtrpcMethod<ResizePtyRequest, Empty> s_resizePty = new(ServiceName, "ResizePty");
    private static readonly TtrpcMethod<CloseIORequest, Empty> s_closeIO = new(ServiceName, "CloseIO");
    private static readonly TtrpcMethod<UpdateTaskRequest, Empty> s_update = new(ServiceName, "Update");
    private static readonly TtrpcMethod<WaitRequest, WaitResponse> s_wait = new(ServiceName, "Wait");
    private static readonly TtrpcMethod<StatsRequest, StatsResponse> s_stats = new(ServiceName, "Stats");
    private static readonly TtrpcMethod<ConnectRequest, ConnectResponse> s_connect = new(ServiceName, "Connect");
    private static readonly TtrpcMethod<ShutdownRequest, Empty> s_shutdown = new(ServiceName, "Shutdown");

    private static readonly Empty s_empty = new();

    private readonly IPodRuntime _runtime;
    private readonly ShimLog _log;
    private readonly Action _shutdown;

    /// <param name="shutdown">Asks the daemon to stop serving and exit (after this reply has gone out).</param>
    public TaskService(IPodRuntime runtime, ShimLog log, Action shutdown)
    {
        _runtime = runtime;
        _log = log;
        _shutdown = shutdown;
    }

    /// <summary>The version Connect reports.</summary>
    public static string Version { get; } =
        typeof(TaskService).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public void Register(TtrpcServer server)
    {
        Register(server, s_state, (r, c) => Call("State", r.Id, () => Task.FromResult(ToState(_runtime.State(r.Id, ExecId(r.ExecId))))));
        Register(server, s_create, (r, c) => Call("Create", r.Id, async () =>
            new CreateTaskResponse { Pid = await _runtime.CreateAsync(ToCreate(r), c.CancellationToken).ConfigureAwait(false) }));
        Register(server, s_start, (r, c) => Call("Start", r.Id, async () =>
            new StartResponse { Pid = await _runtime.StartAsync(r.Id, ExecId(r.ExecId), c.CancellationToken).ConfigureAwait(false) }));
        Register(server, s_delete, (r, c) => Call("Delete", r.Id, async () =>
            ToDelete(await _runtime.DeleteAsync(r.Id, ExecId(r.ExecId), c.CancellationToken).ConfigureAwait(false))));
        Register(server, s_pids, (r, c) => Call("Pids", r.Id, async () =>
            ToPids(await _runtime.PidsAsync(r.Id, c.CancellationToken).ConfigureAwait(false))));
        Register(server, s_pause, (r, c) => Call("Pause", r.Id, async () =>
        {
            await _runtime.PauseAsync(r.Id, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_resume, (r, c) => Call("Resume", r.Id, async () =>
        {
            await _runtime.ResumeAsync(r.Id, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_checkpoint, (r, c) => Call("Checkpoint", r.Id, async () =>
        {
            var (path, exit) = TaskConversions.ToCheckpoint(r);
            await _runtime.CheckpointAsync(r.Id, path, exit, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_kill, (r, c) => Call("Kill", r.Id, async () =>
        {
            await _runtime.KillAsync(r.Id, ExecId(r.ExecId), r.Signal, r.All, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_exec, (r, c) => Call("Exec", r.Id, async () =>
        {
            await _runtime.ExecAsync(ToExec(r), c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_resizePty, (r, c) => Call("ResizePty", r.Id, async () =>
        {
            await _runtime.ResizePtyAsync(r.Id, ExecId(r.ExecId), r.Width, r.Height, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_closeIO, (r, c) => Call("CloseIO", r.Id, async () =>
        {
            // containerd only ever asks to close stdin; without that flag there is nothing to do.
            if (r.Stdin)
                await _runtime.CloseStdinAsync(r.Id, ExecId(r.ExecId), c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_update, (r, c) => Call("Update", r.Id, async () =>
        {
            await _runtime.UpdateAsync(r.Id, ResourcesJson(r), r.Annotations, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        }));
        Register(server, s_wait, (r, c) => Call("Wait", r.Id, async () =>
            ToWait(await _runtime.WaitAsync(r.Id, ExecId(r.ExecId), c.CancellationToken).ConfigureAwait(false))));
        Register(server, s_stats, (r, c) => Call("Stats", r.Id, async () =>
            ToStats(await _runtime.StatsAsync(r.Id, c.CancellationToken).ConfigureAwait(false))));
        Register(server, s_connect, (r, c) => Call("Connect", r.Id, () => Task.FromResult(new ConnectResponse
        {
            ShimPid = (uint)Environment.ProcessId,
            TaskPid = TaskPid(r.Id),
            Version = Version,
        })));
        Register(server, s_shutdown, (r, c) => Call("Shutdown", r.Id, () =>
        {
            // containerd calls Shutdown after deleting each task; the daemon serves the whole pod and
            // stays while any container remains, unless told to go now.
            var count = _runtime.ContainerCount;
            if (r.Now || count == 0)
                _shutdown();
            else
                _log.Debug("shutdown ignored: containers remain", ShimLog.Field("containers", count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return Task.FromResult(s_empty);
        }));
    }

    private static void Register<TRequest, TResponse>(TtrpcServer server, TtrpcMethod<TRequest, TResponse> method,
        Func<TRequest, TtrpcCallContext, Task<TResponse>> handler)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new()
    {
        server.Register(method, handler);
        server.Register(new TtrpcMethod<TRequest, TResponse>(V3ServiceName, method.Name), handler);
    }

    private uint TaskPid(string id)
    {
        try
        {
            return _runtime.State(id, null).Pid;
        }
        catch (StencilException ex) when (ex.Kind == ErrorKind.NotFound)
        {
            return 0; // Connect may come before Create (after a containerd restart it always does)
        }
    }

    private Task<T> Call<T>(string method, string id, Func<Task<T>> body) => ServiceCall.RunAsync(_log, method, ("task", id), body);
}
