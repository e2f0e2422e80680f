using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

public sealed partial class PodRuntime
{
    /// <summary>Longest container id the runtime repeats in a log line about an id the guest made up.</summary>
    private const int MaxLoggedGuestId = 80;

    /// <summary>The sandbox's VM, started when the pod has none; a new VM gets its OOM watch.</summary>
    private async Task<(IPodVm Vm, bool Started)> EnsureVmAsync(Func<PodVmSpec> spec, CancellationToken cancellationToken)
    {
        var result = await _sandbox.EnsureVmAsync(spec, cancellationToken).ConfigureAwait(false);
        if (result.Started)
            _ = Task.Run(() => ForwardOomKillsAsync(result.Vm), CancellationToken.None);
        return result;
    }

    /// <summary>
    /// For the VM's life, turns each OOM kill the agent reports (the kernel's memory.events oom_kill
    /// count in the container's cgroup went up) into containerd's /tasks/oom, as runc's shim does; the
    /// container's process then exits 137 (SIGKILL) through its normal wait, and containerd's CRI
    /// plugin gives it the reason OOMKilled. The guest is untrusted: an id that is not one of this
    /// pod's containers is dropped with a warning. Ends when the VM or the link to it is gone.
    /// </summary>
    private async Task ForwardOomKillsAsync(IPodVm vm)
    {
        // Real OOM kills come a few at a time; a guest reporting thousands a second is lying, and is
        // asked less often instead of flooding the log and containerd.
        var pacer = new GuestEventPacer(burst: 20, perSecond: 10);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long unknown = 0;
        while (!vm.Exited.IsCompleted)
        {
            if (pacer.Take(clock.Elapsed) is { Ticks: > 0 } wait)
                await Task.Delay(wait).ConfigureAwait(false);
            string id;
            try
            {
                id = await vm.Agent.GetOomEventAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                if (!vm.Exited.IsCompleted && !_disposed)
                    _log.Debug($"pod {_options.PodId}: OOM watch ended: {ex.Message}");
                return;
            }
            bool known;
            lock (_gate)
                known = _containers.ContainsKey(id);
            if (!known)
            {
                // The first few are logged, then one line per thousand: the guest chooses how many there are.
                if (++unknown > 3 && unknown % 1000 != 0)
                    continue;
                // Shown bounded and with anything but an id's characters replaced: it is the guest's text.
                var shown = new string([.. id.Take(MaxLoggedGuestId).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '?')])
                    + (id.Length > MaxLoggedGuestId ? "..." : "");
                _log.Warning($"pod {_options.PodId}: the guest reported an OOM kill in \"{shown}\", which is not a container of this pod; ignored"
                    + (unknown > 3 ? $" ({unknown} such reports so far)" : ""));
                continue;
            }
            _log.Warning($"container {id}: the kernel in the VM killed a process of it for running out of memory (OOM)");
            Publish(new TaskOom(DateTimeOffset.UtcNow, id));
        }
    }
}
