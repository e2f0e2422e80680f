using Stencil.Agent.Processes;
using Stencil.Oci;

namespace Stencil.Agent.Containers;

/// <summary>ExecProcess: another process in a running container, `crun exec` with a process.json.</summary>
internal sealed partial class ContainerManager
{
    internal async Task<int> ExecAsync(string id, string execId, ReadOnlyMemory<byte> processJson, CancellationToken cancellationToken)
    {
        var c = Get(id);
        GuestPaths.CheckId(execId, "exec_id");
        var process = SpecRewriter.RewriteProcess(processJson.Span);
        lock (c.Sync)
        {
            ContainerStateMachine.CheckExec(id, c.State);
            if (c.HeldByAgent)
                throw NotForHeld(id, "exec'd into");
            // A null entry holds the id while the runtime runs, as _containers does for a creation.
            if (!c.Execs.TryAdd(execId, null!))
                throw StencilException.AlreadyExists($"exec \"{execId}\" already exists in container \"{id}\"");
        }
        ProcessIo? io = null;
        IConsoleSocket? console = null;
        var done = false;
        try
        {
            var processFile = Path.Combine(c.Dir, $"exec-{execId}.json");
            var pidFile = Path.Combine(c.Dir, $"exec-{execId}.pid");
            await _syscalls.WriteFileAsync(processFile, SpecJson.Serialize(process), cancellationToken).ConfigureAwait(false);
            var pid = await RunWithStdioAsync(c.Runtime, $"exec {execId} in", c.Dir, process.Terminal,
                socket => cl => cl.Exec(id, processFile, pidFile, socket), pidFile,
                onIo: (i, s) => { io = i; console = s; }, cancellationToken).ConfigureAwait(false);
            var guestProcess = new GuestProcess(id, execId, pid, io!, _reaper.WaitAsync(pid));
            lock (c.Sync)
                c.Execs[execId] = guestProcess;
            done = true;
            return pid;
        }
        finally
        {
            console?.Dispose();
            if (!done)
            {
                io?.Dispose();
                lock (c.Sync)
                    c.Execs.Remove(execId);
            }
        }
    }
}
