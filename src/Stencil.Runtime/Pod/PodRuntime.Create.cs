using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Pod;

public sealed partial class PodRuntime
{
    public async Task<uint> CreateAsync(CreateContainerRequest request, CancellationToken cancellationToken)
    {
        if (request.Checkpoint is { } checkpoint)
            return await RestoreAsync(request, checkpoint, cancellationToken).ConfigureAwait(false);
        var steps = new StepTimes();
        var bundle = Bundle.Load(request.Bundle);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_containers.ContainsKey(request.Id) || !_creating.Add(request.Id))
                throw StencilException.AlreadyExists($"container \"{request.Id}\" already exists");
        }

        var init = new PodProcess(request.Id, "", request.Stdio, ReadOnlyMemory<byte>.Empty);
        var container = new PodContainer(request.Id, bundle, init, request.RootfsMounts);
        ProcessOutputs? outputs = null;
        try
        {
            // Everything that can be refused from the host side alone is refused before a VM starts.
            var podBase = PodSizing.Base(_options.BaseVcpus, _options.BaseMemoryMiB, bundle.Spec.Annotations);
            var plan = GuestSpecBuilder.Build(bundle.Spec, request.Id, File.Exists, (major, minor) => HostDevices.FindBlockDevice(major, minor),
                HostTmpfs.Snapshot(), _options.HoldSandboxContainer, _options.SharedFolder);
            HostStorage.CheckSources(container, plan);
            foreach (var note in plan.Notes)
                _log.Debug($"container {request.Id}: {note}");
            StdioForwarder.Targets(request.Stdio);
            container.Hooks = OciHooks.FromSpec(bundle.Spec, request.Id);
            steps.Mark("plan");

            var (vm, startedVm) = await EnsureVmAsync(() => PodVmSpec.FromBundle(request.Id, bundle), cancellationToken).ConfigureAwait(false);
            var vmMs = steps.Mark(startedVm ? $"vm {vm.Origin}" : "vm (running)");
            await _sizer.GrowForAsync(vm, request.Id, bundle.Spec,
                PodSizing.HasBaseAnnotations(bundle.Spec.Annotations) ? podBase : null, cancellationToken).ConfigureAwait(false);
            steps.Mark("size");
            if (plan.RootfsOnDisk)
                await _storage.MakeRootfsImageAsync(container, cancellationToken).ConfigureAwait(false);
            else if (_options.SharedFolder)
                _storage.Mount(container, plan);
            var storageMs = steps.Mark("storage");
            if (plan.RootfsOnDisk)
                plan = await PodDevices.AttachRootfsAsync(vm, container, plan, _log, cancellationToken).ConfigureAwait(false);
            var devices = await PodDevices.AttachAsync(vm, container, plan, _log, cancellationToken).ConfigureAwait(false);
            steps.Mark("devices");

            var holderPid = _sandbox.Holder?.Pid ?? 0;
            if (!container.Hooks.IsEmpty)
            {
                // As runc: prestart, then createRuntime, with the namespaces made and the container not yet created.
                var state = OciHooks.StateJson(bundle.Spec.OciVersion, request.Id, "creating", holderPid, bundle.Path, bundle.Spec.Annotations);
                await container.Hooks.RunAsync("prestart", state, _log, $"container {request.Id}", warnOnly: false, cancellationToken).ConfigureAwait(false);
                await container.Hooks.RunAsync("createRuntime", state, _log, $"container {request.Id}", warnOnly: false, cancellationToken).ConfigureAwait(false);
                steps.Mark("hooks");
            }
            // Interfaces a hook made in the namespace the holder made go into the VM now.
            await _sandbox.ConnectClientNetworkAsync(cancellationToken).ConfigureAwait(false);
            outputs = await StdioForwarder.PrepareAsync(request.Stdio, _options.Namespace, request.Id, null, _log, cancellationToken).ConfigureAwait(false);
            var created = await vm.Agent.CreateContainerTimedAsync(new ContainerConfig(request.Id, plan.GuestSpecJson, plan.Storages, Devices: devices), cancellationToken)
                .ConfigureAwait(false);
            var pid = created.Pid;
            var guestCreateMs = steps.Mark("guest create");
            container.CreatedInGuest = true;
            init.Pid = TaskPid(pid);
            init.Forwarder = StdioForwarder.Start(vm.Agent, request.Id, null, request.Stdio, _log, outputs);
            outputs = null;
            // Waiting starts now: a container killed before it is started exits too.
            init.Waiter = WaitForExitAsync(vm, init);
            steps.Mark("stdio");
            if (startedVm)
                container.PendingStart = new PendingStart(DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(steps.TotalMilliseconds), vm.Origin, vmMs, storageMs, guestCreateMs);
            else if (TakeSandboxVmStart() is { } sandboxStart)
                container.PendingStart = sandboxStart with { StorageMs = storageMs, GuestCreateMs = guestCreateMs };
            AddCreated(request, container, init.Pid);
            _log.Info($"container {request.Id} created in the guest (pid {pid}; task pid {init.Pid}, the pod's holder on the host)");
            _log.Debug($"container {request.Id} create: {steps}; in the guest: {StepTimes.Format(created.GuestSteps)}");
            return init.Pid;
        }
        catch
        {
            lock (_gate)
                _creating.Remove(request.Id);
            if (outputs is not null)
                await outputs.DisposeAsync().ConfigureAwait(false);
            _sizer.Forget(request.Id);
            await CleanupContainerAsync(container, removeInGuest: container.CreatedInGuest, removeStorage: false).ConfigureAwait(false);
            await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
            // Once the VM holds its disks no longer: a rootfs image is among the files.
            _storage.Remove(container);
            throw;
        }
    }

    /// <summary>A container made (created or restored) becomes the pod's, and containerd hears of it.</summary>
    private void AddCreated(CreateContainerRequest request, PodContainer container, uint pid)
    {
        lock (_gate)
        {
            _creating.Remove(request.Id);
            _containers.Add(request.Id, container);
        }
        Publish(new TaskCreated(DateTimeOffset.UtcNow, request.Id, request.Bundle, request.RootfsMounts, request.Stdio, pid));
    }
}
