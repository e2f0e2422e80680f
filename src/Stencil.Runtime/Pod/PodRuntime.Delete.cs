using System.Diagnostics;

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

        var clock = Stopwatch.StartNew();
        lock (_gate)
        {
            if (!_containers.Remove(id))
                throw StencilException.NotFound($"container \"{id}\" not found");
        }
        _sizer.Forget(id);
        var exit = process.Lifecycle.Exit ?? new ExitStatus(process.Pid, 0, null);
        // Before the holder (and with it a namespace the client made) can go: nerdctl's poststop undoes its network there.
        if (container.Hooks is { IsEmpty: false } hooks)
            await hooks.RunAsync("poststop", HookState(container, "stopped"), _log, $"container {id}", warnOnly: true, cancellationToken).ConfigureAwait(false);
        if (container.Devices.All(d => d == container.RootfsDisk) && ContainerCount == 0)
        {
            // The pod's last container: the VM goes, and the caller (`ctr run --rm`, RemovePodSandbox) does
            // not wait for it. Nothing in the guest needs removing first, and killing QEMU loses no data:
            // - the container's processes have all exited (Delete needs the init stopped, and its pid
            //   namespace took every other process with it);
            // - its root file system and bind mounts live on the host, shared over virtio-9p, which the
            //   agent mounts with cache=mmap (Stencil.Agent/Guest/Sandbox.cs): read() and write() go to
            //   QEMU's 9p server as they happen, and QEMU's server makes the host syscall before it
            //   answers, so the guest keeps no dirty copy; only pages of shared-writable mappings are
            //   cached, and the guest kernel writes those back when the mapping is closed, i.e. by the
            //   time the process is gone;
            // - guest tmpfs volumes (emptyDir on memory) end with the pod by definition;
            // - a container with hot-plugged disks (whose file systems the guest mounts, with a
            //   writeback cache of their own) does not come here: it is removed in the guest first,
            //   which unmounts them, as before;
            // - a rootfs image's disk (shared_fs = "none") does come here: what the guest has not written back
            //   would go into the image, which goes with the container anyway. The image itself is left to the
            //   teardown, which removes the pod's folders once QEMU, which has it open, is gone.
            await CleanupContainerAsync(container, removeInGuest: false, removeStorage: container.RootfsImage is null).ConfigureAwait(false);
            var hasNetwork = _sandbox.HasNetwork;
            if (await _sandbox.BeginStopIfIdleAsync(() => ContainerCount == 0).ConfigureAwait(false) is { } teardown)
            {
                // Under CRI, CNI tears the pod's namespace down right after this Delete: the tap and filters
                // the shim put there go first (QEMU, which holds the tap, is killed and reaped for that).
                // The rest (folders) is not waited for; the sandbox's DisposeAsync (the shim's shutdown)
                // and any later create wait for it.
                if (hasNetwork)
                    await teardown.NetworkReleased.ConfigureAwait(false);
                Publish(new TaskDeleted(DateTimeOffset.UtcNow, id, exit.Pid, exit.ExitCode, exit.ExitedAt ?? DateTimeOffset.UtcNow));
                _log.Debug($"container {id} deleted in {clock.Elapsed.TotalMilliseconds:F0} ms; the VM is stopping in the background");
                return exit;
            }
            // A container was created meanwhile and keeps the VM: remove this one in the guest after all.
            await RemoveInGuestAsync(container).ConfigureAwait(false);
        }
        else
        {
            await CleanupContainerAsync(container, removeInGuest: true, removeStorage: false).ConfigureAwait(false);
        }
        Publish(new TaskDeleted(DateTimeOffset.UtcNow, id, exit.Pid, exit.ExitCode, exit.ExitedAt ?? DateTimeOffset.UtcNow));
        await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
        // Once the VM holds its disks no longer (unplugged, or QEMU gone): a rootfs image is among the files.
        _storage.Remove(container);
        _log.Debug($"container {id} deleted in {clock.Elapsed.TotalMilliseconds:F0} ms");
        return exit;
    }

    /// <summary>Stops the container's stdio, removes it in the guest (while the VM lives) and its host folders
    /// (unless <paramref name="removeStorage"/> is false: the caller removes them once the VM has let go of its disks).</summary>
    private async Task CleanupContainerAsync(PodContainer container, bool removeInGuest, bool removeStorage = true)
    {
        foreach (var p in container.Execs.Values.Append(container.Init))
        {
            if (p.Forwarder is { } f)
                await f.DisposeAsync().ConfigureAwait(false);
        }
        if (removeInGuest)
            await RemoveInGuestAsync(container).ConfigureAwait(false);
        if (removeStorage)
            _storage.Remove(container);
    }

    /// <summary>Removes the container in the guest while the VM lives (unmounting its storages there); failures are logged.</summary>
    private async Task RemoveInGuestAsync(PodContainer container)
    {
        if (_sandbox.Lifecycle.Vm is not { } vm || vm.Exited.IsCompleted)
            return;
        try
        {
            await vm.Agent.RemoveContainerAsync(container.Id, force: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _log.Warning($"container {container.Id}: removing it in the guest failed: {ex.Message}");
        }
    }
}
