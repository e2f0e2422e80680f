using System.Text.Json;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// QEMU's process going away, and the events QMP delivers meanwhile.
public sealed partial class QemuVm
{
    /// <summary>After QMP drops, how long to wait for QEMU to exit so its output can explain why.</summary>
    private static readonly TimeSpan s_exitExplainGrace = TimeSpan.FromSeconds(2);

    private async Task WatchExitAsync(QemuProcess process)
    {
        await process.Exited.ConfigureAwait(false);
        var reason = Classify(process);
        lock (_gate)
        {
            _state = VmState.Stopped;
            if (!_stopRequested)
                _exitReason ??= reason;
        }
        List<TaskCompletionSource> waiters;
        lock (_deletions)
        {
            waiters = [.. _deletions.Values];
            _deletions.Clear();
        }
        foreach (var waiter in waiters)
            waiter.TrySetException(process.ExitError($"vm {Name}"));
        if (_qmp is { } qmp)
            await qmp.DisposeAsync().ConfigureAwait(false);
        ReleaseAfterExit();
    }

    /// <summary>
    /// The one end of every way QEMU goes (stopped by us, or died): the state is final, the sockets
    /// and pid file it owned are removed, <see cref="Exited"/> completes. Safe to run twice.
    /// </summary>
    private void ReleaseAfterExit()
    {
        bool detached;
        lock (_gate)
        {
            _state = VmState.Stopped;
            detached = _detached;
        }
        // A detached QEMU's files belong to whoever attached it.
        if (!detached)
            _ownedFiles.DeleteAll();
        _exited.TrySetResult();
    }

    /// <summary>Bounds the guest console's file while this object owns QEMU (see <see cref="ConsoleLogLimit"/>).</summary>
    private void WatchConsoleLog()
    {
        if (Instance.Paths.ConsoleLog is { } log)
            _ = ConsoleLogLimit.WatchAsync(log, _exited.Task);
    }

    private async Task PumpEventsAsync(QmpClient qmp)
    {
        await foreach (var e in qmp.Events.ReadAllAsync().ConfigureAwait(false))
        {
            // QEMU's own run state wins: a guest I/O error pauses the VM, and a stop or cont whose
            // caller timed out still takes effect when QEMU gets to it.
            if (e.Name is "STOP" or "RESUME")
            {
                lock (_gate)
                {
                    if (e.Name == "STOP" && _state == VmState.Running)
                        _state = VmState.Paused;
                    else if (e.Name == "RESUME" && _state == VmState.Paused)
                        _state = VmState.Running;
                }
            }
            if (e.Name == "DEVICE_DELETED" && e.Data.ValueKind == JsonValueKind.Object
                && e.Data.TryGetProperty("device", out var device) && device.ValueKind == JsonValueKind.String)
            {
                TaskCompletionSource? waiter;
                lock (_deletions)
                    _deletions.Remove(device.GetString()!, out waiter);
                waiter?.TrySetResult();
            }
            EventReceived?.Invoke(e);
        }
    }

    /// <summary>
    /// QMP went away: QEMU is probably exiting. Wait briefly for it, then report its exit code and
    /// output instead of a bare "connection closed".
    /// </summary>
    private async Task<StencilException> ExplainAsync(string action, StencilException error)
    {
        if (_process is not { } process)
            return error;
        await Task.WhenAny(process.Exited, Task.Delay(s_exitExplainGrace)).ConfigureAwait(false);
        if (!process.HasExited)
            return new StencilException(error.Kind, $"{action} failed: {error.Message}", error);
        lock (_gate)
        {
            if (_stopRequested)
                return StencilException.Unavailable($"{action} failed: vm {Name} was stopped", error);
        }
        return UnexpectedExitError(process, $"{action} failed", error);
    }

    /// <summary>"...: qemu exited with code N: its output" for an exit nobody asked for; records why it exited.</summary>
    private StencilException UnexpectedExitError(QemuProcess process, string context, Exception? inner = null)
    {
        var reason = Classify(process);
        lock (_gate)
            _exitReason ??= reason;
        return process.ExitError(context, inner);
    }

    private QemuExitReason Classify(QemuProcess process) => QemuExitClassifier.Classify(process.OutputTail, Instance.MemoryFile);

    private bool UnexpectedExit()
    {
        lock (_gate)
            return !_stopRequested;
    }
}
