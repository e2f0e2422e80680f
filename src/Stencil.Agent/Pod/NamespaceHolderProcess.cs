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
    internal const string InitArgument = "--ns-init";
    /// <summary>The agent's own binary by its real path, so the kernel names the holder's processes
    /// "stencil-agent" (ps in a pod sharing its PID namespace shows that, not "exe").</summary>
    internal static string Self => Environment.ProcessPath ?? "/proc/self/exe";

    /// <summary>The exit code of a hidden mode named by <paramref name="args"/>, or null for a normal start.</summary>
    internal static int? TryRun(string[] args) => args switch
    {
        [HoldArgument, var hostname, .. var sysctls] => Hold(hostname, sysctls),
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
