using Stencil.Hypervisor;

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
            var killed = KillClone(clone, log);
            FactoryVm.RemoveOwnedDirectory(clone, Path.Combine(clone, "shared"), log);
            log.Info($"pool: removed clone {Path.GetFileName(clone)} left by an earlier run{(killed ? " (its qemu killed)" : "")}");
            removed++;
        }
        return removed;
    }

    /// <summary>SIGKILL to the QEMU of the clone in <paramref name="cloneDirectory"/> (found by its pid file), waiting up to 5 s for it to go.</summary>
    /// <returns>Whether a QEMU was running there.</returns>
    public static bool KillClone(string cloneDirectory, ILog log)
    {
        var result = QemuPidFile.Kill(Path.Combine(cloneDirectory, "qemu.pid"), TimeSpan.FromSeconds(5), out var pid);
        if (result is QemuPidFileKill.StillRunning or QemuPidFileKill.KillFailed)
            log.Warning($"pool: qemu pid {pid} of {cloneDirectory}: {(result == QemuPidFileKill.KillFailed ? "could not be killed" : "did not exit within 5 s of SIGKILL")}");
        return result is not (QemuPidFileKill.NotRunning or QemuPidFileKill.Unreadable);
    }
}
