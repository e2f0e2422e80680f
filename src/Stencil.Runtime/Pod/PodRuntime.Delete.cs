namespace Stencil.Runtime.Pod;

public sealed partial class PodRuntime
{
    public async Task<ExitStatus> DeleteAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (container, process) = Find(id, execId);
        process.Lifecycle.EnsureCanDelete();
        if (process.ExecId.Length > 0)
        {
            lock (_gate)
                container.Execs.Remove(process.ExecId);
            if (process.Forwarder is { } f)
                await f.DisposeAsync().ConfigureAwait(false);
            return process.Lifecycle.Exit ?? new ExitStatus(process.Pid, 0, null);
        }

        lock (_gate)
        {
            if (!_containers.Remove(id))
                throw StencilException.NotFound($"container \"{id}\" not found");
        }
        _sizer.Forget(id);
        await CleanupContainerAsync(container, removeInGuest: true).ConfigureAwait(false);
        var exit = process.Lifecycle.Exit ?? new ExitStatus(process.Pid, 0, null);
        Publish(new TaskDeleted(DateTimeOffset.UtcNow, id, exit.Pid, exit.ExitCode, exit.ExitedAt ?? DateTimeOffset.UtcNow));
        await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
        return exit;
    }

    /// <summary>Stops the container's stdio, removes it in the guest (while the VM lives) and its host folders.</summary>
    private async Task CleanupContainerAsync(PodContainer container, bool removeInGuest)
    {
        foreach (var p in container.Execs.Values.Append(container.Init))
        {
            if (p.Forwarder is { } f)
                await f.DisposeAsync().ConfigureAwait(false);
        }
        if (removeInGuest && _sandbox.Lifecycle.Vm is { } vm && !vm.Exited.IsCompleted)
        {
            try
            {
                await vm.Agent.RemoveContainerAsync(container.Id, force: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (StencilException ex)
            {
                _log.Warning($"container {container.Id}: removing it in the guest failed: {ex.Message}");
            }
        }
        _storage.Remove(container);
    }
}
