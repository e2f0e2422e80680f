using Stencil.Hypervisor;
using Stencil.Interop;
using Stencil.Runtime.Vm;

namespace Stencil.Shim.Delete;

/// <summary>
/// The pod's QEMU after its shim daemon died without stopping it (SIGKILL, the OOM killer): QEMU does
/// not notice its parent is gone, so `delete`, which containerd runs for the dead shim's task, stops it.
/// The pid comes from QEMU's pidfile in the pod's VM folder (<see cref="QemuPidFile"/>: acted on only while
/// that process's command line names the same pidfile, so a reused pid is never killed).
/// </summary>
internal static class OrphanedVm
{
    /// <summary>
    /// The folder of the pod's QEMU: the pod's VM folder, or, for a clone the factory daemon handed
    /// over, the clone's own folder, which the shim wrote into the VM folder's <c>clone</c> file.
    /// </summary>
    public static string QemuDirectory(string vmDirectory)
    {
        try
        {
            var target = File.ReadAllText(Path.Combine(vmDirectory, FactoryPodVmProvider.CloneFileName)).Trim();
            return target.StartsWith('/') ? target : vmDirectory;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return vmDirectory;
        }
    }

    /// <summary>Kills the QEMU whose pidfile is <c>qemu.pid</c> in the pod's QEMU folder (<see cref="QemuDirectory"/>) if
    /// it still runs, and waits (up to <paramref name="wait"/>) until it has exited. Returns what it did, or null.</summary>
    public static string? Stop(string vmDirectory, TimeSpan wait)
    {
        var pidFile = Path.Combine(QemuDirectory(vmDirectory), "qemu.pid");
        return QemuPidFile.Kill(pidFile, wait, out var pid) switch
        {
            QemuPidFileKill.NotRunning => null,
            QemuPidFileKill.Unreadable => $"{pidFile} holds no pid; its QEMU, if any, was left alone",
            QemuPidFileKill.KillFailed => $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon and could not be killed: errno {Errno.Last}",
            QemuPidFileKill.StillRunning => $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon; killed, but it had not exited after {wait.TotalSeconds:0} s",
            _ => $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon: killed",
        };
    }
}
