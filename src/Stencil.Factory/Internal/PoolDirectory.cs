using System.Globalization;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Factory.Internal;

/// <summary>
/// The folder of a pool's clones, one sub-folder each (sockets, pid file, console log, 9p export).
/// A process that restarts finds there the clones its previous life left: those not handed over
/// (no <see cref="HandedOverClone.MarkerName"/> file) are its own and are killed and removed; those
/// handed over belong to the shims that took them and are left alone.
/// </summary>
internal static class PoolDirectory
{
    /// <summary>Kills and removes every clone under <paramref name="directory"/> that was not handed over; returns how many.</summary>
    public static int CleanLeftovers(string directory, ILog log)
    {
        if (!Directory.Exists(directory))
            return 0;
        var removed = 0;
        foreach (var clone in Directory.EnumerateDirectories(directory))
        {
            if (File.Exists(Path.Combine(clone, HandedOverClone.MarkerName)))
                continue;
            var pid = ReadPid(Path.Combine(clone, "qemu.pid"));
            if (pid is not null)
                KillClone(clone, pid.Value, log);
            FactoryVm.RemoveOwnedDirectory(clone, Path.Combine(clone, "shared"), log);
            log.Info($"pool: removed clone {Path.GetFileName(clone)} left by an earlier run{(pid is null ? "" : $" (qemu pid {pid} killed)")}");
            removed++;
        }
        return removed;
    }

    /// <summary>
    /// SIGKILL to the QEMU of the clone in <paramref name="cloneDirectory"/>, if <paramref name="pid"/>
    /// still is that QEMU (its command line names the folder), and waits up to 5 s for it to go.
    /// </summary>
    public static void KillClone(string cloneDirectory, int pid, ILog log)
    {
        using var pidfd = Libc.PidfdOpen(pid);
        if (pidfd.IsInvalid)
            return;
        string commandLine;
        try
        {
            commandLine = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }
        if (!commandLine.Contains(cloneDirectory + "/", StringComparison.Ordinal))
            return;
        if (Libc.PidfdSendSignal(pidfd, LibC.SIGKILL) != 0)
            return;
        if (Libc.Poll(pidfd, LibC.POLLIN, 5000, out _) <= 0)
            log.Warning($"pool: qemu pid {pid} of {cloneDirectory} did not exit within 5 s of SIGKILL");
    }

    private static int? ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
