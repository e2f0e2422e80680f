using Stencil.Agent.Guest;
using Stencil.Agent.Logging;
using Stencil.Agent.Processes;

namespace Stencil.Agent.Containers;

/// <summary>
/// Every container and process in the guest. Operations look the container up, check the move with
/// <see cref="ContainerStateMachine"/>, call the OCI runtime, and record the result. Exits come from
/// the reaper. One file per concern: creation (ContainerManager.Create.cs), the lifecycle of a
/// created container (.Lifecycle.cs), exec (.Exec.cs), the stdio of both (.Stdio.cs), and what its
/// cgroup holds (.Inspect.cs). All the manager asks of the guest goes through the syscalls, reaper,
/// OOM watch and log it is given, so its logic is unit tested against fakes.
/// </summary>
internal sealed partial class ContainerManager
{
    private readonly Sandbox _sandbox;
    private readonly IReadOnlyList<IOciRuntime> _runtimes;
    private readonly IContainerSyscalls _syscalls;
    private readonly IReaper _reaper;
    private readonly IOomWatch _oom;
    private readonly IAgentLog _log;

    private readonly object _lock = new();
    // null while the container is being created: the id is taken, the container not usable yet.
    private readonly Dictionary<string, Container?> _containers = new(StringComparer.Ordinal);

    internal ContainerManager(Sandbox sandbox, IReadOnlyList<IOciRuntime> runtimes, IContainerSyscalls syscalls, IReaper reaper,
        IOomWatch oom, IAgentLog log)
    {
        _sandbox = sandbox;
        _runtimes = runtimes;
        _syscalls = syscalls;
        _reaper = reaper;
        _oom = oom;
        _log = log;
    }

    internal IReadOnlyList<IOciRuntime> Runtimes => _runtimes;

    internal IOomWatch Oom => _oom;

    internal int Count
    {
        get
        {
            lock (_lock)
                return _containers.Count;
        }
    }

    /// <summary>The init process (<paramref name="execId"/> "") or an exec'd one, for its stdio.</summary>
    internal GuestProcess Process(string id, string execId) => GetProcess(Get(id), execId);

    private Container Get(string id)
    {
        lock (_lock)
        {
            if (_containers.TryGetValue(id, out var c) && c is not null)
                return c;
        }
        throw StencilException.NotFound($"container \"{id}\" not found");
    }

    private static GuestProcess GetProcess(Container c, string execId)
    {
        if (execId.Length == 0)
            return c.Init!;
        lock (c.Sync)
        {
            if (c.Execs.TryGetValue(execId, out var p) && p is not null)
                return p;
        }
        throw StencilException.NotFound($"exec \"{execId}\" not found in container \"{c.Id}\"");
    }

    private void TryDeleteDir(string dir)
    {
        try
        {
            if (!_syscalls.DirectoryExists(dir))
                return;
            // Never delete through a mount that is still there: it could be the host's files.
            if (_syscalls.MountPointsUnder(dir).Count > 0)
            {
                _log.Warn($"{dir} still has mounts; left in place");
                return;
            }
            _syscalls.DeleteDirectory(dir);
        }
        catch (IOException ex)
        {
            _log.Warn($"cannot delete {dir}: {ex.Message}");
        }
    }
}
