using System.Globalization;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// The runner every QMP operation goes through: one at a time, a legal move, a deadline, QEMU's exit explained.
public sealed partial class QemuVm
{
    private async Task<T> RunAsync<T>(VmOperation operation, string action, TimeSpan timeout, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VmState from, target;
            lock (_gate)
            {
                if (_state == VmState.Stopped && _process is { } process && UnexpectedExit())
                    throw UnexpectedExitError(process, $"cannot {VmLifecycle.Verb(operation)} vm {Name}");
                from = _state;
                target = VmLifecycle.Next(from, operation, Name);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            T result;
            try
            {
                result = await body(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
            {
                throw new StencilException(ErrorKind.DeadlineExceeded, $"{action} did not finish within {Seconds(timeout)}");
            }
            catch (StencilException ex) when (ex.Kind == ErrorKind.Unavailable)
            {
                throw await ExplainAsync(action, ex).ConfigureAwait(false);
            }
            Move(from, target);
            return result;
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// from -> target, unless something else moved the state while the operation ran: QEMU died
    /// (Stopped is final) or a STOP/RESUME event already said where QEMU is.
    /// </summary>
    private void Move(VmState from, VmState target)
    {
        lock (_gate)
        {
            if (_state == from)
                _state = target;
        }
    }

    private static async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (StencilException)
        {
            // Cleanup of something already failing; the original error is what matters.
        }
    }

    private static string Tail(QemuProcess process)
    {
        var tail = process.OutputTail;
        return tail.Length == 0 ? "(nothing)" : tail;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
