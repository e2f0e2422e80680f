using System.Globalization;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Hypervisor;

/// <summary>What <see cref="QemuPidFile.Kill"/> found and did.</summary>
public enum QemuPidFileKill
{
    /// <summary>No pid file, or its pid is not (any more) the QEMU that wrote it: nothing was done.</summary>
    NotRunning,

    /// <summary>The pid file holds no pid; its QEMU, if any, was left alone.</summary>
    Unreadable,

    /// <summary>Killed, and it exited within the wait.</summary>
    Killed,

    /// <summary>The signal could not be sent.</summary>
    KillFailed,

    /// <summary>Killed, but it had not exited when the wait ended.</summary>
    StillRunning,
}

/// <summary>
/// A QEMU found by its pid file (-pidfile), also one this process did not start (a shim daemon that
/// died, a pool's earlier run). A pid is acted on only while that process's command line names the
/// pid file, and through a pidfd opened before the check, so a reused pid is never signalled.
/// </summary>
public static class QemuPidFile
{
    /// <summary>Whether process <paramref name="pid"/>'s command line has an argument containing <paramref name="text"/>.</summary>
    public static bool CommandLineMentions(int pid, string text)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0')
                .Any(a => a.Contains(text, StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// SIGKILL to the QEMU whose pid file is <paramref name="pidFile"/> if it still runs, then waits up
    /// to <paramref name="wait"/> for it to exit. <paramref name="pid"/> is the pid read (0 if none).
    /// </summary>
    public static QemuPidFileKill Kill(string pidFile, TimeSpan wait, out int pid)
    {
        pid = 0;
        string text;
        try
        {
            text = File.ReadAllText(pidFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return QemuPidFileKill.NotRunning; // no VM ran, or it exited and removed its pid file
        }
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out pid) || pid <= 1)
            return QemuPidFileKill.Unreadable;
        using var pidfd = Libc.PidfdOpen(pid);
        // A pidfd that is readable already refers to a process that has exited (a zombie).
        if (pidfd.IsInvalid || Libc.Poll(pidfd, LibC.POLLIN, 0, out _) > 0 || !CommandLineMentions(pid, pidFile))
            return QemuPidFileKill.NotRunning;
        if (Libc.PidfdSendSignal(pidfd, LibC.SIGKILL) != 0)
            return QemuPidFileKill.KillFailed;
        return Libc.Poll(pidfd, LibC.POLLIN, (int)Math.Min(int.MaxValue, wait.TotalMilliseconds), out _) > 0
            ? QemuPidFileKill.Killed
            : QemuPidFileKill.StillRunning;
    }
}
