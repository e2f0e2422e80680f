using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

// Watching a running pod: QEMU's exit, the agent link, the agent's health checks.
internal sealed partial class PodSandbox
{
    /// <summary>
    /// Marks the pod failed when its VM exits on its own, or when the link to its agent ends while the VM
    /// runs: the agent stopped answering, stopped reading, or broke the protocol (the guest is untrusted;
    /// the link closes itself on a reply it cannot believe). A stop on purpose takes the VM out of the
    /// lifecycle first, so it is no failure.
    /// </summary>
    private async Task WatchAsync(IPodVm vm)
    {
        if (await Task.WhenAny(vm.Exited, vm.Agent.Closed).ConfigureAwait(false) != vm.Exited)
        {
            // QEMU's exit closes the link too, often a moment before its exit is seen: its reason says more.
            await Task.WhenAny(vm.Exited, Task.Delay(s_exitAfterLinkLoss)).ConfigureAwait(false);
        }
        var reason = FailureOf(vm);
        if (Lifecycle.VmDied(vm, reason))
            _log.Warning(vm.Exited.IsCompleted ? $"pod {_options.PodId}: the VM died: {reason}" : $"pod {_options.PodId}: the pod failed: {reason}");
    }

    // How long a link loss waits for QEMU's exit: a panicking or powering-off guest ends the link as QEMU shuts
    // down, and the process's end is seen a moment later; on a loaded host that moment can be long.
    private static readonly TimeSpan s_exitAfterLinkLoss = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Checks the agent every interval while the VM runs and the link is open; after the configured misses in a
    /// row closes the link, which <see cref="WatchAsync"/> turns into a failed pod with the reason.
    /// </summary>
    private async Task WatchAgentHealthAsync(IPodVm vm, AgentHealthCheck health)
    {
        var ended = Task.WhenAny(vm.Exited, vm.Agent.Closed);
        var misses = 0;
        string? last = null;
        while (true)
        {
            if (await Task.WhenAny(ended, Task.Delay(health.Interval)).ConfigureAwait(false) == ended)
                return;
            bool serving;
            try
            {
                serving = await vm.Agent.CheckAsync(health.Timeout).ConfigureAwait(false);
                last = serving ? null : "not serving";
            }
            catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                serving = false;
                last = ex.Message;
            }
            if (ended.IsCompleted)
                return;
            misses = serving ? 0 : misses + 1;
            if (misses > 0)
                _log.Warning($"pod {_options.PodId}: the agent missed health check {misses} of {health.Misses}: {last}");
            if (misses >= health.Misses)
            {
                vm.Agent.Disconnect($"the agent did not answer {misses} health checks in a row ({health.Timeout.TotalMilliseconds:0} ms each; last: {last})");
                return;
            }
        }
    }

    private static string FailureOf(IPodVm vm) => vm.Exited.IsCompleted
        ? vm.ExitReason ?? "qemu exited"
        : $"the link to its agent ended: {vm.Agent.CloseReason ?? "closed"}";
}
