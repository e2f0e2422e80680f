using Stencil.Interop;
using Stencil.Agent.Logging;
using Tmds.Linux;

namespace Stencil.Agent.Processes;

/// <summary>
/// The one place the agent waits for children. The agent is a child subreaper (or PID 1), so every
/// orphan in the guest ends up as its child: the OCI runtime exits right after creating a
/// container, and the container's process is reparented here. One thread blocks in waitpid(-1);
/// each exit completes the waiter for that pid, or is kept for a while in case the waiter comes
/// later (a pid read from a pid file after the process already died). Nothing else in the agent may
/// call wait*: System.Diagnostics.Process is not used anywhere, so no other code reaps.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "the one reaper of the agent (PID 1 side) lives as long as the process")]
internal sealed class Reaper : IReaper
{
    // An exit nobody claimed within this time was an orphan's: forget it (and so cannot confuse a
    // later process that reuses the pid).
    private static readonly TimeSpan s_unclaimedLifetime = TimeSpan.FromMinutes(2);

    private readonly object _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<ExitStatus>> _waiters = [];
    private readonly Dictionary<int, ExitStatus> _unclaimed = [];
    // Set after every spawn: the reaper sleeps on it while the agent has no children at all.
    private readonly AutoResetEvent _childAdded = new(false);
    private Thread? _thread;

    internal static Reaper Instance { get; } = new();

    internal void Start()
    {
        if (_thread is not null)
            return;
        _thread = new Thread(Loop) { IsBackground = true, Name = "reaper" };
        _thread.Start();
    }

    /// <summary>Called after the agent created a child, so a reaper idle on ECHILD looks again.</summary>
    internal void ChildAdded() => _childAdded.Set();

    /// <summary>Completes when <paramref name="pid"/> (a child or an orphan reparented here) exits.</summary>
    public Task<ExitStatus> WaitAsync(int pid)
    {
        lock (_lock)
        {
            if (_unclaimed.Remove(pid, out var status))
                return Task.FromResult(status);
            if (!_waiters.TryGetValue(pid, out var tcs))
            {
                tcs = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters[pid] = tcs;
            }
            return tcs.Task;
        }
    }

    private void Loop()
    {
        while (true)
        {
            var pid = Libc.WaitPid(-1, out var status, 0);
            if (pid > 0)
            {
                Deliver(ExitStatus.FromWaitStatus(pid, status, DateTimeOffset.UtcNow));
                continue;
            }
            var errno = Errno.Last;
            if (errno == LibC.EINTR)
                continue;
            if (errno == LibC.ECHILD)
            {
                // No children: new ones only come from a spawn (orphans are reparented while their
                // parent, our child, still exists), so sleep until the next spawn.
                _childAdded.WaitOne();
                continue;
            }
            AgentLog.Error($"waitpid failed with errno {errno}; the reaper stops");
            return;
        }
    }

    private void Deliver(ExitStatus status)
    {
        TaskCompletionSource<ExitStatus>? waiter;
        lock (_lock)
        {
            if (_waiters.Remove(status.Pid, out waiter))
            {
                // Completed outside the lock below.
            }
            else
            {
                PruneUnclaimed(status.ExitedAt);
                _unclaimed[status.Pid] = status;
            }
        }
        waiter?.TrySetResult(status);
        AgentLog.Debug($"reaped {status}");
    }

    private void PruneUnclaimed(DateTimeOffset now)
    {
        if (_unclaimed.Count < 64)
            return;
        foreach (var (pid, old) in _unclaimed.ToArray())
        {
            if (now - old.ExitedAt > s_unclaimedLifetime)
                _unclaimed.Remove(pid);
        }
    }
}
