using Stencil.Agent.Processes;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>Exits happen when the test says so (<see cref="Exit"/>).</summary>
internal sealed class FakeReaper : IReaper
{
    private readonly object _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<ExitStatus>> _exits = [];

    public Task<ExitStatus> WaitAsync(int pid) => Get(pid).Task;

    internal ExitStatus Exit(int pid, int exitCode)
    {
        var status = new ExitStatus(pid, exitCode, 0, new DateTimeOffset(2031, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Get(pid).TrySetResult(status);
        return status;
    }

    private TaskCompletionSource<ExitStatus> Get(int pid)
    {
        lock (_lock)
        {
            if (!_exits.TryGetValue(pid, out var tcs))
                _exits[pid] = tcs = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            return tcs;
        }
    }
}
