using System.Text;
using Stencil.Agent.Logging;
using Stencil.Agent.Processes;

namespace Stencil.Agent.Pod;

/// <summary>
/// A namespace holder made before any pod asks for one (NamespaceHolderProcess's prepared mode): the
/// template build and each pooled clone's warm-up make it, so it is in the snapshot every clone starts
/// from and a pod's CreateSandbox only hands it the hostname and sysctls (two process starts under TCG,
/// some 300 ms, leave the pod's start). One at a time; taken by the first sandbox that needs one.
/// </summary>
internal sealed class PreparedHolder
{
    private static readonly object s_gate = new();
    private static Task<PreparedHolder?>? s_prepared;

    private readonly ProcessIo _io;
    private readonly Task<ExitStatus> _exit;

    private PreparedHolder(ProcessIo io, Task<ExitStatus> exit, int initPid)
    {
        _io = io;
        _exit = exit;
        InitPid = initPid;
    }

    /// <summary>The ns-init's pid (PID 1 of the prepared PID namespace).</summary>
    internal int InitPid { get; }

    /// <summary>Makes one unless one is ready or being made; completes when it is ready (never throws: a failure is logged and leaves none).</summary>
    internal static Task PrepareAsync()
    {
        lock (s_gate)
        {
            s_prepared ??= StartAsync();
            return s_prepared;
        }
    }

    /// <summary>The prepared holder, if one was made and is ready; null otherwise. It is the caller's from here on.</summary>
    internal static async Task<PreparedHolder?> TakeAsync()
    {
        Task<PreparedHolder?>? prepared;
        lock (s_gate)
        {
            prepared = s_prepared;
            s_prepared = null;
        }
        return prepared is null ? null : await prepared.ConfigureAwait(false);
    }

    /// <summary>Hands the pod's hostname and IPC sysctls to the middle, which applies them in the namespaces and exits; returns the holder's pid.</summary>
    internal async Task<int> ConfigureAsync(string hostname, IReadOnlyList<Sysctl> ipcSysctls)
    {
        try
        {
            await _io.WriteStdinAsync(NamespaceHolderProcess.PreparedConfiguration(hostname, ipcSysctls), CancellationToken.None).ConfigureAwait(false);
            await _io.CloseStdinAsync(CancellationToken.None).ConfigureAwait(false);
            var report = await _io.ReadToEndAsync(stderr: false, CancellationToken.None).ConfigureAwait(false);
            var errors = await _io.ReadToEndAsync(stderr: true, CancellationToken.None).ConfigureAwait(false);
            var status = await _exit.ConfigureAwait(false);
            if (errors.Length > 0)
                AgentLog.Warn($"namespace holder: {errors.Trim()}");
            return NamespaceHolderProcess.ParseReport(status.ExitCode, report);
        }
        finally
        {
            _io.Dispose();
        }
    }

    private static async Task<PreparedHolder?> StartAsync()
    {
        await Task.Yield();
        var io = ProcessIo.CreatePipes(out var child);
        try
        {
            int pid;
            try
            {
                pid = Spawner.Spawn(NamespaceHolderProcess.Self, NamespaceHolderProcess.PreparedCommand(), child.Stdin, child.Stdout, child.Stderr);
            }
            finally
            {
                child.Close();
            }
            var exit = Reaper.Instance.WaitAsync(pid);
            var first = await ReadLineAsync(io).ConfigureAwait(false);
            if (NamespaceHolderProcess.ParseReady(first) is { } initPid)
            {
                AgentLog.Debug($"namespace holder prepared (middle {pid}, ns-init {initPid})");
                return new PreparedHolder(io, exit, initPid);
            }
            var errors = await io.ReadToEndAsync(stderr: true, CancellationToken.None).ConfigureAwait(false);
            await exit.ConfigureAwait(false);
            AgentLog.Warn($"preparing a namespace holder failed: {first.Trim()} {errors.Trim()}; pods without a pause container start one when they need it");
        }
        catch (Exception e) when (e is StencilException or IOException)
        {
            AgentLog.Warn($"preparing a namespace holder failed: {e.Message}");
        }
        io.Dispose();
        return null;
    }

    /// <summary>The first line of stdout (the middle writes "ready PID\n" in one write).</summary>
    private static async Task<string> ReadLineAsync(ProcessIo io)
    {
        var text = new StringBuilder();
        while (!text.ToString().Contains('\n', StringComparison.Ordinal))
        {
            var (data, eof) = await io.ReadAsync(stderr: false, 4096, CancellationToken.None).ConfigureAwait(false);
            if (eof)
                break;
            text.Append(Encoding.UTF8.GetString(data));
        }
        return text.ToString();
    }
}
