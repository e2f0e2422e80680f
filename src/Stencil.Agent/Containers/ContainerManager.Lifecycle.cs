using Stencil.Agent.Processes;
using Tmds.Linux;

namespace Stencil.Agent.Containers;

/// <summary>
/// A created container's life: start, pause, resume, update, signals, waiting for an exit, removal.
/// Each move is checked with <see cref="ContainerStateMachine"/> before the runtime is called, and
/// runs under the container's <see cref="Container.Operation"/>, one at a time.
/// </summary>
internal sealed partial class ContainerManager
{
    private static readonly TimeSpan s_killWait = TimeSpan.FromSeconds(10);

    internal async Task StartAsync(string id, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (c.Sync)
                ContainerStateMachine.Start(id, c.State);
            // The holder runs from its creation on: starting it is only the state's move.
            if (!c.HeldByAgent && !c.Runtime.TryStartDirectly(id))
                await c.Runtime.RunAsync($"start {id}", cl => cl.Start(id), c.Dir, null, cancellationToken).ConfigureAwait(false);
            lock (c.Sync)
            {
                // The init may already have run to its end (`true`): then it stays stopped.
                if (c.State == ContainerState.Created)
                    c.State = ContainerStateMachine.Start(id, c.State);
            }
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal Task PauseAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, ContainerStateMachine.Pause, "pause", cl => cl.Pause(id), cancellationToken);

    internal Task ResumeAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, ContainerStateMachine.Resume, "resume", cl => cl.Resume(id), cancellationToken);

    private async Task MoveAsync(string id, Func<string, ContainerState, ContainerState> move, string verb,
        Func<OciCommandLine, IReadOnlyList<string>> command, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ContainerState next;
            lock (c.Sync)
                next = move(id, c.State);
            if (c.HeldByAgent)
                throw NotForHeld(id, verb == "pause" ? "paused" : "resumed");
            await c.Runtime.RunAsync($"{verb} {id}", command, c.Dir, null, cancellationToken).ConfigureAwait(false);
            lock (c.Sync)
            {
                if (c.State != ContainerState.Stopped)
                    c.State = next;
            }
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal async Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, CancellationToken cancellationToken)
    {
        var c = Get(id);
        CheckJsonObject(resourcesJson, "resources_json");
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (c.Sync)
                ContainerStateMachine.CheckUpdate(id, c.State);
            if (c.HeldByAgent)
                throw NotForHeld(id, "updated");
            var file = Path.Combine(c.Dir, "resources.json");
            await _syscalls.WriteFileAsync(file, resourcesJson.ToArray(), cancellationToken).ConfigureAwait(false);
            await c.Runtime.RunAsync($"update {id}", cl => cl.Update(id, file), c.Dir, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal async Task SignalAsync(string id, string execId, int signal, bool all, CancellationToken cancellationToken)
    {
        if (signal is <= 0 or > 64)
            throw StencilException.InvalidArgument($"signal {signal} is not a signal number (1-64)");
        var c = Get(id);
        var p = GetProcess(c, execId);
        if (all && execId.Length == 0 && !c.HeldByAgent)
        {
            await c.Runtime.RunAsync($"kill --all {id}", cl => cl.Kill(id, signal, all: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The agent is the process's parent and has not reaped it yet, so its pid cannot have been
        // reused: a direct kill(2) is exact and costs no runtime call.
        if (p.HasExited || !_syscalls.Kill(p.Pid, signal))
            throw StencilException.NotFound($"{p.Describe()} has already exited");
    }

    internal async Task<ExitStatus> WaitAsync(string id, string execId, CancellationToken cancellationToken)
    {
        var p = GetProcess(Get(id), execId);
        return await p.Exit.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal async Task RemoveAsync(string id, bool force, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ContainerState state;
            lock (c.Sync)
            {
                state = c.State;
                ContainerStateMachine.CheckRemove(id, state, force);
            }
            if (c.HeldByAgent)
            {
                // Nothing of a runtime's to delete: the holder (and whatever is left in its PID namespace) goes.
                if (!c.Init!.HasExited && _syscalls.Kill(c.Init.Pid, LibC.SIGKILL))
                    await c.Init.Exit.WaitAsync(s_killWait, cancellationToken).ConfigureAwait(false);
            }
            else if (!c.Init!.HasExited)
            {
                // A frozen container cannot die until thawed; a created one has an init waiting on
                // the runtime's fifo: delete --force handles both.
                await c.Runtime.RunAsync($"delete --force {id}", cl => cl.Delete(id, force: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
                await c.Init.Exit.WaitAsync(s_killWait, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await c.Runtime.RunAsync($"delete {id}", cl => cl.Delete(id, force: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
            }
            _oom.Remove(id);
            lock (c.Sync)
            {
                foreach (var p in c.Execs.Values)
                    p?.Io.Dispose();
                c.Execs.Clear();
            }
            c.Init.Io.Dispose();
            _syscalls.Unmount(c.Mounts);
            TryDeleteDir(c.Dir);
            lock (_lock)
                _containers.Remove(id);
            _log.Debug($"container {id} removed");
        }
        finally
        {
            c.Operation.Release();
        }
    }

    /// <summary>Removes every container (DestroySandbox).</summary>
    internal async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        string[] ids;
        lock (_lock)
            ids = _containers.Where(kv => kv.Value is not null).Select(kv => kv.Key).ToArray();
        foreach (var id in ids)
        {
            try
            {
                await RemoveAsync(id, force: true, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex)
            {
                _log.Warn($"removing container {id}: {ex.Message}");
            }
        }
    }

    /// <summary>Unmounts the sandbox's tmpfs volumes (DestroySandbox, after <see cref="RemoveAllAsync"/>).</summary>
    internal void UnmountEphemeralVolumes() => _syscalls.UnmountEphemeralVolumes();

    private static void CheckJsonObject(ReadOnlyMemory<byte> json, string field)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw StencilException.InvalidArgument($"{field} is a JSON {doc.RootElement.ValueKind}, expected an object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw StencilException.InvalidArgument($"{field} is not valid JSON: {ex.Message}");
        }
    }
}
