using System.Globalization;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The pod's process on the host: what containerd is told the task's pid is (Kata reports its VMM for
/// the same reason), so that everything that takes that pid as a host pid acts on something that
/// belongs to the pod: `ctr run --cni` and nerdctl's hooks set up the network in /proc/PID/ns/net,
/// monitoring reads /proc/PID. A guest pid would name nothing on the host, or an unrelated process.
/// It is `/bin/sh -c 'read -r _' stencil-pod-holder`, started in the pod's network namespace: a new one
/// (unshare --net) when the spec asks for a namespace without a path, the named one (nsenter) under CRI.
/// Its stdin is a pipe whose only writer is this shim, so it ends with the shim however the shim ends;
/// otherwise it is killed when the pod's VM is stopped.
/// </summary>
internal sealed class PodHolder : IAsyncDisposable
{
    private const string Name = "stencil-pod-holder";
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _lifeline;
    private readonly Task<int> _exited;

    private PodHolder(int pid, bool ownsNetwork, Microsoft.Win32.SafeHandles.SafeFileHandle lifeline)
    {
        Pid = pid;
        OwnsNetworkNamespace = ownsNetwork;
        _lifeline = lifeline;
        _exited = ChildExit.WaitAsync(pid);
    }

    public int Pid { get; }

    /// <summary>The holder made the pod's network namespace (no CNI before the task: ctr, nerdctl); hooks or
    /// `ctr run --cni` may put interfaces in it before the task starts.</summary>
    public bool OwnsNetworkNamespace { get; }

    /// <summary>The pod's network namespace as the holder sees it.</summary>
    public string NetworkNamespacePath => $"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/ns/net";

    /// <summary>The argv that runs the holder (pure: golden-tested).</summary>
    /// <param name="joinNetwork">The namespace to join (CRI), or null for a new one.</param>
    internal static IReadOnlyList<string> CommandLine(string? joinNetwork) =>
        joinNetwork is null
            ? ["unshare", "--net", "--", "/bin/sh", "-c", "read -r _", Name]
            : ["nsenter", $"--net={joinNetwork}", "--", "/bin/sh", "-c", "read -r _", Name];

    /// <exception cref="StencilException">The holder could not be started or did not get into its namespace.</exception>
    public static async Task<PodHolder?> StartAsync(string? joinNetwork, string podId, CancellationToken cancellationToken)
    {
        var argv = CommandLine(joinNetwork);
        var tool = FindTool(argv[0]);
        var (read, write) = Libc.Pipe2(LibC.O_CLOEXEC);
        int pid;
        try
        {
            using var actions = new SpawnFileActions();
            actions.AddDup2(read, 0);
            actions.AddOpen(1, "/dev/null", LibC.O_WRONLY);
            actions.AddOpen(2, "/dev/null", LibC.O_WRONLY);
            using var attributes = new SpawnAttributes(newSession: true);
            var rc = Libc.PosixSpawn(tool, argv, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], actions, attributes, out pid);
            if (rc != 0)
                throw Errno.Exception(rc, $"pod {podId}: starting its holder process ({tool})");
        }
        catch
        {
            write.Dispose();
            throw;
        }
        finally
        {
            read.Dispose();
        }
        var holder = new PodHolder(pid, joinNetwork is null, write);
        try
        {
            // Ready once unshare or nsenter has exec'd the shell: then the namespace is the pod's.
            var self = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/exe";
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (ResolveExe(self) is var exe && (exe is null || exe == tool))
            {
                if (holder._exited.IsCompleted)
                    throw StencilException.Internal($"pod {podId}: its holder process ({string.Join(' ', argv)}) {ChildExit.Describe(holder._exited.Result)}");
                if (DateTime.UtcNow > deadline)
                    throw StencilException.Internal($"pod {podId}: its holder process ({string.Join(' ', argv)}) did not start within 10 s");
                await Task.Delay(2, cancellationToken).ConfigureAwait(false);
            }
            return holder;
        }
        catch
        {
            await holder.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static readonly string[] s_toolFolders = ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"];

    private static string FindTool(string name) =>
        s_toolFolders.Select(d => d + name).FirstOrDefault(File.Exists)
        ?? throw StencilException.FailedPrecondition($"{name} (util-linux) is not installed: the pod's holder process needs it");

    private static string? ResolveExe(string link)
    {
        try
        {
            return File.ResolveLinkTarget(link, returnFinalTarget: false)?.FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // EOF on its stdin ends the shell; SIGKILL in case something holds the pipe open.
        _lifeline.Dispose();
        if (!_exited.IsCompleted)
            _ = Libc.Kill(Pid, LibC.SIGKILL);
        await _exited.ConfigureAwait(false);
    }
}
