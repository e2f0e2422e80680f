using Stencil.Interop;
using Stencil.Runtime.Vm;
using Tmds.Linux;

namespace Stencil.Shim.Delete;

/// <summary>
/// The pod's QEMU after its shim daemon died without stopping it (SIGKILL, the OOM killer): QEMU does
/// not notice its parent is gone, so `delete`, which containerd runs for the dead shim's task, stops it.
/// The pid comes from QEMU's pidfile in the pod's VM folder, and is acted on only while that process's
/// command line names the same pidfile, so a reused pid is never killed.
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
        string text;
        try
        {
            text = File.ReadAllText(pidFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // no VM ran, or it exited and removed its pidfile
        }
        if (!int.TryParse(text.Trim(), out var pid) || pid <= 1)
            return $"{pidFile} holds no pid (\"{text.Trim()}\"); its QEMU, if any, was left alone";
        if (!Runs(pid, pidFile))
            return null;
        if (Libc.Kill(pid, LibC.SIGKILL) != 0)
            return $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon and could not be killed: errno {Errno.Last}";
        var deadline = DateTime.UtcNow + wait;
        while (Runs(pid, pidFile) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        return Runs(pid, pidFile)
            ? $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon; killed, but it had not exited after {wait.TotalSeconds:0} s"
            : $"QEMU (pid {pid}, {pidFile}) outlived its shim daemon: killed";
    }

    /// <summary>Is <paramref name="pid"/> a live (not zombie) process started with <paramref name="pidFile"/>
    /// on its command line?</summary>
    private static bool Runs(int pid, string pidFile)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            if (!cmdline.Contains(pidFile))
                return false;
            // /proc/PID/stat: "PID (COMM) STATE ..."; COMM may hold spaces and parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
