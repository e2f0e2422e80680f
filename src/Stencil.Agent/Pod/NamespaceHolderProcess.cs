using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Agent.Processes;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Pod;

/// <summary>
/// The agent binary's two hidden modes that hold a pod's namespaces when there is no pause container
/// (containerd's sandbox API). The agent is a multi-threaded .NET process: it must not fork, and
/// unshare changes only the calling thread, so the agent posix_spawns itself:
/// <code>
/// agent ──spawn──> stencil-agent --hold-namespaces HOSTNAME KEY=VALUE...   (the "middle")
///                    unshare(IPC|UTS), sethostname, IPC sysctls, unshare(PID)
///                    ──spawn──> stencil-agent --ns-init    (PID 1 of the new PID namespace)
///                    reports "ok PID" on stdout, exits
/// </code>
/// Everything happens on the middle's main thread (the thread unshare moved) and the middle starts
/// no thread after unshare(CLONE_NEWPID): a thread can no longer be created once a process's
/// children go to another PID namespace. When the middle exits, the kernel reparents the ns-init to
/// the agent (a child subreaper), whose reaper learns its exit. One binary, no second program in
/// the initrd, and the middle's failures come back as text with their error kind.
/// </summary>
internal static class NamespaceHolderProcess
{
    internal const string HoldArgument = "--hold-namespaces";
    internal const string PreparedArgument = "--hold-namespaces-prepared";
    internal const string InitArgument = "--ns-init";
    /// <summary>The agent's own binary by its real path, so the kernel names the holder's processes
    /// "stencil-agent" (ps in a pod sharing its PID namespace shows that, not "exe").</summary>
    internal static string Self => Environment.ProcessPath ?? "/proc/self/exe";

    /// <summary>The exit code of a hidden mode named by <paramref name="args"/>, or null for a normal start.</summary>
    internal static int? TryRun(string[] args) => args switch
    {
        [HoldArgument, var hostname, .. var sysctls] => Hold(hostname, sysctls),
        [PreparedArgument] => HoldPrepared(),
        [InitArgument] => Init(),
        _ => null,
    };

    /// <summary>The middle's command line.</summary>
    internal static IReadOnlyList<string> HoldCommand(string hostname, IReadOnlyList<Sysctl> ipcSysctls) =>
        ["stencil-agent", HoldArgument, hostname, .. ipcSysctls.Select(s => $"{s.Key}={s.Value}")];

    /// <summary>The holder's pid from the middle's exit code and report; its error (with its kind) otherwise.</summary>
    internal static int ParseReport(int exitCode, string report)
    {
        var line = report.TrimEnd('\n');
        if (exitCode == 0 && line.StartsWith("ok ", StringComparison.Ordinal)
            && int.TryParse(line.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
            return pid;
        if (exitCode != 0 && line.StartsWith("error ", StringComparison.Ordinal))
        {
            var rest = line[6..];
            var space = rest.IndexOf(' ');
            if (space > 0 && Enum.TryParse<ErrorKind>(rest[..space], out var kind))
                return ThrowFailed(kind, rest[(space + 1)..]);
        }
        return ThrowFailed(ErrorKind.Internal, $"exit code {exitCode}, output \"{line}\"");
    }

    private static int ThrowFailed(ErrorKind kind, string message) =>
        throw new StencilException(kind, $"the pod's namespace holder failed: {message}");

    private static int Hold(string hostname, string[] sysctls)
    {
        using var stdout = new SafeFileHandle(1, ownsHandle: false);
        try
        {
            Errno.Check(Libc.Unshare(LibC.CLONE_NEWIPC | LibC.CLONE_NEWUTS), "unshare(CLONE_NEWIPC|CLONE_NEWUTS)");
            if (hostname.Length > 0)
                Errno.Check(Libc.SetHostname(hostname), $"sethostname \"{hostname}\"");
            foreach (var arg in sysctls)
                WriteIpcSysctl(arg);
            Errno.Check(Libc.Unshare(LibC.CLONE_NEWPID), "unshare(CLONE_NEWPID)");
            var pid = Spawner.Spawn(Self, ["stencil-agent", InitArgument]);
            Report(stdout, $"ok {pid.ToString(CultureInfo.InvariantCulture)}");
            return 0;
        }
        catch (StencilException e)
        {
            Report(stdout, $"error {e.Kind} {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    /// <summary>The prepared middle's command line (its configuration comes on stdin).</summary>
    internal static IReadOnlyList<string> PreparedCommand() => ["stencil-agent", PreparedArgument];

    /// <summary>
    /// What the agent writes to a prepared middle's stdin: the hostname, then one KEY=VALUE per IPC sysctl,
    /// each on a line. A newline inside a value would split it, so it is refused (PodSysctls refuses it first).
    /// </summary>
    internal static byte[] PreparedConfiguration(string hostname, IReadOnlyList<Sysctl> ipcSysctls)
    {
        var lines = new List<string> { hostname };
        lines.AddRange(ipcSysctls.Select(s => $"{s.Key}={s.Value}"));
        if (lines.Any(l => l.Contains('\n', StringComparison.Ordinal) || l.Contains('\0', StringComparison.Ordinal)))
            throw StencilException.InvalidArgument("a hostname or sysctl value contains a newline or NUL");
        return Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
    }

    /// <summary>
    /// What <see cref="PreparedConfiguration"/> wrote: the hostname (the first line, possibly empty: keep
    /// the guest's) and the KEY=VALUE lines; null when nothing was written (the agent gave the holder up).
    /// </summary>
    internal static (string Hostname, IReadOnlyList<string> Sysctls)? ParsePreparedConfiguration(string text)
    {
        if (text.Length == 0)
            return null;
        var lines = text.TrimEnd('\n').Split('\n');
        return (lines[0], lines.Skip(1).Where(l => l.Length > 0).ToList());
    }

    /// <summary>The ns-init's pid from a prepared middle's first line ("ready PID").</summary>
    internal static int? ParseReady(string line)
    {
        line = line.TrimEnd('\n');
        return line.StartsWith("ready ", StringComparison.Ordinal)
            && int.TryParse(line.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
    }

    /// <summary>
    /// The middle made ahead of time (in a template, before its snapshot, so every clone has it): the
    /// namespaces and the ns-init first ("ready PID"), then, once the agent writes the pod's configuration
    /// and closes stdin, the hostname and IPC sysctls, and the usual report. Still one thread: the read is
    /// a blocking read on the main thread. Stdin closed with nothing written (the agent gave up on it): the
    /// ns-init is killed and nothing is reported.
    /// </summary>
    private static int HoldPrepared()
    {
        using var stdout = new SafeFileHandle(1, ownsHandle: false);
        var pid = 0;
        try
        {
            Errno.Check(Libc.Unshare(LibC.CLONE_NEWIPC | LibC.CLONE_NEWUTS), "unshare(CLONE_NEWIPC|CLONE_NEWUTS)");
            Errno.Check(Libc.Unshare(LibC.CLONE_NEWPID), "unshare(CLONE_NEWPID)");
            pid = Spawner.Spawn(Self, ["stencil-agent", InitArgument]);
            Report(stdout, $"ready {pid.ToString(CultureInfo.InvariantCulture)}");
            if (ParsePreparedConfiguration(ReadStdin()) is not { } configuration)
            {
                Libc.Kill(pid, LibC.SIGKILL);
                return 0;
            }
            var (hostname, sysctls) = configuration;
            if (hostname.Length > 0)
                Errno.Check(Libc.SetHostname(hostname), $"sethostname \"{hostname}\"");
            foreach (var arg in sysctls)
                WriteIpcSysctl(arg);
            Report(stdout, $"ok {pid.ToString(CultureInfo.InvariantCulture)}");
            return 0;
        }
        catch (StencilException e)
        {
            if (pid > 0)
                Libc.Kill(pid, LibC.SIGKILL);
            Report(stdout, $"error {e.Kind} {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    /// <summary>Stdin to its end (the configuration is a few hundred bytes; more than 64 KiB is not one).</summary>
    private static string ReadStdin()
    {
        using var stdin = new SafeFileHandle(0, ownsHandle: false);
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var n = (int)Libc.Read(stdin, buffer.AsSpan(length));
            if (n < 0 && Errno.Last == LibC.EINTR)
                continue;
            if (n <= 0)
                break;
            length += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>An IPC sysctl under /proc/sys is the writer's IPC namespace's: this thread's, the new one.</summary>
    private static void WriteIpcSysctl(string arg)
    {
        var equals = arg.IndexOf('=');
        if (equals <= 0)
            throw StencilException.InvalidArgument($"\"{arg}\" is not KEY=VALUE");
        var (key, value) = (arg[..equals], arg[(equals + 1)..]);
        try
        {
            File.WriteAllText(PodSysctls.ProcPath(key), value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StencilException.InvalidArgument($"sysctl {key} = \"{value}\" cannot be set in the pod's IPC namespace: {e.Message}");
        }
    }

    private static void Report(SafeFileHandle stdout, string line) => Libc.Write(stdout, Encoding.UTF8.GetBytes(line + "\n"));

    /// <summary>
    /// PID 1 of the pod's PID namespace: orphans of the pod's processes come here and must not stay
    /// zombies. SIGCHLD ignored makes the kernel reap each child as it exits, so this process only
    /// sleeps: no wait loop, nothing to wake it. SIGKILL from the agent (outside the namespace) ends
    /// it, and with it every process left in the namespace.
    /// </summary>
    private static int Init()
    {
        if (Libc.IgnoreChildExits() != 0)
            return 1;
        while (true)
            Thread.Sleep(Timeout.Infinite);
    }
}
