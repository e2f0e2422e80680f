using System.Globalization;

namespace Stencil.TestSupport;

/// <summary>
/// What a test may have left behind on the host: processes (QEMU, shim daemons) and mounts. Each test
/// runs everything inside a folder of its own and every QEMU and shim daemon names a socket or state
/// path in it on its command line, so "whose command line mentions the folder" and "mounted under the
/// folder" find exactly this run's leftovers, even when other test runs share the machine.
/// </summary>
public static class Leftovers
{
    /// <summary>
    /// Every live process whose argv <paramref name="matches"/> (this process excluded). Zombies, kernel
    /// threads and processes that exit while being read have an empty or unreadable command line and
    /// are left out.
    /// </summary>
    public static IReadOnlyList<LeftoverProcess> Processes(Func<LeftoverProcess, bool> matches)
    {
        var found = new List<LeftoverProcess>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
                continue;
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile
            }
            if (cmdline.Length == 0)
                continue;
            var process = new LeftoverProcess(pid, cmdline.TrimEnd('\0').Split('\0'));
            if (matches(process))
                found.Add(process);
        }
        return found;
    }

    /// <summary>Live processes whose command line contains any of <paramref name="markers"/> (e.g. a run's state or socket folder).</summary>
    public static IReadOnlyList<LeftoverProcess> ProcessesMentioning(params string[] markers) =>
        Processes(p => markers.Any(m => p.CommandLine.Contains(m, StringComparison.Ordinal)));

    /// <summary>QEMU processes (qemu-system-*) whose command line mentions <paramref name="folder"/>.</summary>
    public static IReadOnlyList<LeftoverProcess> QemuMentioning(string folder) =>
        Processes(p => p.CommandLine.Contains("qemu-system", StringComparison.Ordinal) && p.CommandLine.Contains(folder, StringComparison.Ordinal));

    /// <summary>
    /// qemu-system-* children of <paramref name="parentPid"/>, from /proc/PID/stat: a child that has exited
    /// but was not yet reaped (a zombie) counts too, since its parent has not waited for it.
    /// </summary>
    public static IReadOnlyList<int> QemuChildrenOf(int parentPid)
    {
        var parent = parentPid.ToString(CultureInfo.InvariantCulture);
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            // pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'.
            var close = stat.LastIndexOf(')');
            var comm = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            if (comm.StartsWith("qemu-system", StringComparison.Ordinal) && fields[1] == parent)
                result.Add(pid);
        }
        return result;
    }

    /// <summary>Alive and not a zombie (an exited daemon waits for init to reap it).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Mount points at or below <paramref name="folder"/>, deepest first (the order to unmount them in).</summary>
    public static IReadOnlyList<string> MountsUnder(string folder) =>
        [.. File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')[1])
            .Where(m => m == folder || m.StartsWith(folder + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length)];

    /// <summary>Whole lines of /proc/self/mounts that mention <paramref name="text"/> (source or target), for messages.</summary>
    public static IReadOnlyList<string> MountLinesMentioning(string text) =>
        [.. File.ReadAllLines("/proc/self/mounts").Where(l => l.Contains(text, StringComparison.Ordinal))];

    /// <summary>
    /// What a pod left under a Stencil state folder: entries below its pods/ and vm/ folders (the
    /// template folder is kept between pods on purpose, so it is not looked at).
    /// </summary>
    public static IReadOnlyList<string> PodStateUnder(string stateDir)
    {
        var found = new List<string>();
        foreach (var sub in new[] { "pods", "vm" })
        {
            var dir = Path.Combine(stateDir, sub);
            if (Directory.Exists(dir))
                found.AddRange(Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories));
        }
        return found;
    }

    /// <summary>
    /// Lazily unmounts everything at or below <paramref name="folder"/> (what the factory mounted, its
    /// template tmpfs) so the folder can be deleted; returns what it unmounted.
    /// </summary>
    public static async Task<IReadOnlyList<string>> UnmountAllUnderAsync(string folder)
    {
        var mounts = MountsUnder(folder);
        foreach (var mount in mounts)
            await ChildProcess.RunAsync("umount", ["-l", mount], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return mounts;
    }
}
