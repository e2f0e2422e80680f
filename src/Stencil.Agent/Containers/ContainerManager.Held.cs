using Stencil.Agent.Pod;
using Stencil.Oci;

namespace Stencil.Agent.Containers;

/// <summary>
/// A CRI sandbox (pause) container the shim marked <see cref="StencilAnnotations.SandboxHolder"/>: the
/// agent's namespace holder (made ahead of time in the template or the pooled clone) serves it instead
/// of crun running the pause image. The holder does what pause does in a pod: it holds the IPC, UTS (with
/// the spec's hostname) and PID namespaces the pod's containers join, with the spec's IPC sysctls set in
/// its IPC namespace, and sleeps until it is killed. It has no rootfs, no cgroup and no stdio; a
/// started "container" is the holder running, and its exit (SIGKILL from StopPodSandbox) is its end.
/// </summary>
internal sealed partial class ContainerManager
{
    /// <summary>Whether the shim asked for the holder (only the shim sets the annotation: it drops any a pod brings).</summary>
    internal static bool IsHeld(Stencil.Oci.Model.Spec spec) =>
        spec.Annotations?.GetValueOrDefault(StencilAnnotations.SandboxHolder) == "true";

    private async Task<int> CreateHeldAsync(string id, Stencil.Oci.Model.Spec spec, string dir, IOciRuntime runtime, StepTimes steps,
        CancellationToken cancellationToken)
    {
        // As crun would for the pause container: net.* in the pod's network (the guest's own), the IPC
        // ones inside the holder's IPC namespace; any other is refused before the holder is taken.
        var network = SpecRewriter.TakeNetworkSysctls(spec);
        var (_, ipc) = PodSysctls.Classify((spec.Linux?.Sysctl ?? []).Select(kv => new Sysctl(kv.Key, kv.Value)));
        await WriteSysctlsAsync(network, cancellationToken).ConfigureAwait(false);
        steps.Mark("sysctls");
        // No stdio: pipes whose writing ends are closed at once, so a read ends at EOF. Made first, so
        // nothing can fail between taking the holder and recording it.
        var io = _syscalls.CreatePipes(out var child);
        child.Close();
        int pid;
        try
        {
            pid = await _sandbox.StartHolderAsync(spec.Hostname ?? "", ipc).ConfigureAwait(false);
        }
        catch
        {
            io.Dispose();
            throw;
        }
        steps.Mark("holder");
        var container = new Container(id, dir, runtime, []) { HeldByAgent = true };
        container.Init = new GuestProcess(id, "", pid, io, _reaper.WaitAsync(pid));
        _ = container.Init.Exit.ContinueWith(_ => OnInitExit(container), TaskScheduler.Default);
        lock (_lock)
            _containers[id] = container;
        _log.Info($"container {id}: the pod's sandbox, held by the agent's namespace holder (pid {pid})");
        _log.Debug($"container {id} created: {steps}");
        return pid;
    }

    private static StencilException NotForHeld(string id, string what) =>
        StencilException.FailedPrecondition($"container {id} is the pod's sandbox, served by the agent's namespace holder: it cannot be {what}");
}
