using Stencil.Agent.Guest;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Pod;

/// <summary>
/// What CreateSandbox with pod namespaces does in place of a pause container and containerd's CRI:
/// the pod's network sysctls in the guest's network namespace, the namespace holder (IPC, UTS with
/// the pod's hostname, PID; IPC sysctls inside), the pod's files. DestroyAsync undoes it.
/// </summary>
internal sealed class PodSetup(IPodSyscalls syscalls, string filesDir, string guestResolvConf)
{
    /// <summary>Sets the pod up; on a failure nothing it started is left running.</summary>
    internal async Task<PodState> CreateAsync(string sandboxId, SandboxSettings s, CancellationToken cancellationToken)
    {
        // Every sysctl is checked before anything is written.
        var (network, ipc) = PodSysctls.Classify(s.PodSysctls ?? []);
        foreach (var (key, value) in network)
        {
            var path = PodSysctls.ProcPath(key);
            try
            {
                await syscalls.WriteSysctlAsync(path, value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StencilException.InvalidArgument($"sysctl {key} = \"{value}\" cannot be set in the guest: {e.Message}");
            }
        }
        var pid = await syscalls.StartHolderAsync(s.Hostname, ipc).ConfigureAwait(false);
        try
        {
            // An empty hostname keeps the guest's, in the holder's UTS namespace too.
            var hostname = s.Hostname.Length > 0 ? s.Hostname : Environment.MachineName;
            var resolvConf = PodFiles.ResolvConfText(s.DnsServers, s.DnsSearch, s.DnsOptions, ReadGuestResolvConf());
            PodFiles.Write(filesDir, hostname, resolvConf);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await syscalls.StopHolderAsync(pid).ConfigureAwait(false);
            throw StencilException.Internal($"cannot write the pod's files in {filesDir}: {e.Message}");
        }
        AgentLog.Info($"pod {sandboxId}: namespaces held by pid {pid}, {network.Count + ipc.Count} sysctl(s)");
        return new PodState(sandboxId, pid, filesDir);
    }

    /// <summary>Ends the holder (and whatever is left in the pod's PID namespace) and deletes the pod's files.</summary>
    internal async Task DestroyAsync(PodState pod)
    {
        await syscalls.StopHolderAsync(pod.HolderPid).ConfigureAwait(false);
        try
        {
            if (Directory.Exists(pod.FilesDir))
                Directory.Delete(pod.FilesDir, recursive: true);
        }
        catch (IOException e)
        {
            AgentLog.Warn($"cannot delete {pod.FilesDir}: {e.Message}");
        }
    }

    private string? ReadGuestResolvConf()
    {
        try
        {
            return File.Exists(guestResolvConf) ? File.ReadAllText(guestResolvConf) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
