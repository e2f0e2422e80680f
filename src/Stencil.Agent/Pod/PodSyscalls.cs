using Stencil.Agent.Logging;
using Stencil.Agent.Processes;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Pod;

/// <summary>The guest's own <see cref="IPodSyscalls"/>: the holder is the agent binary in its hidden modes (<see cref="NamespaceHolderProcess"/>).</summary>
internal sealed class PodSyscalls : IPodSyscalls
{
    public Task PrepareHolderAsync() => PreparedHolder.PrepareAsync();

    public async Task<int> StartHolderAsync(string hostname, IReadOnlyList<Sysctl> ipcSysctls)
    {
        // One made ahead of time (in the template or the pooled clone): only the configuration is left.
        if (await PreparedHolder.TakeAsync().ConfigureAwait(false) is { } prepared)
            return await prepared.ConfigureAsync(hostname, ipcSysctls).ConfigureAwait(false);
        // Not cancellable: once the middle runs, its report is the only way to learn the holder's pid,
        // and a holder nobody knows of would outlive the sandbox. It takes milliseconds.
        var (status, report, errors) = await CapturedRun.RunAsync(NamespaceHolderProcess.Self,
            NamespaceHolderProcess.HoldCommand(hostname, ipcSysctls), CancellationToken.None).ConfigureAwait(false);
        if (errors.Length > 0)
            AgentLog.Warn($"namespace holder: {errors.Trim()}");
        return NamespaceHolderProcess.ParseReport(status.ExitCode, report);
    }

    public async Task StopHolderAsync(int pid)
    {
        // Until the reaper has it, the pid cannot be reused, so the signal reaches the holder or fails.
        if (Libc.Kill(pid, LibC.SIGKILL) != 0)
        {
            // Gone and reaped already: its exit is not ours to wait for.
            AgentLog.Warn($"namespace holder {pid}: kill: errno {Errno.Last}");
            return;
        }
        // An exit that comes before this call is kept by the reaper.
        var status = await Reaper.Instance.WaitAsync(pid).ConfigureAwait(false);
        AgentLog.Debug($"namespace holder: {status}");
    }

    public Task WriteSysctlAsync(string path, string value, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, value, cancellationToken);
}
