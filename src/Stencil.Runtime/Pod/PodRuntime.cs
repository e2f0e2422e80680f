using System.Threading.Channels;
using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Runtime.Network;
using Stencil.Runtime.Storage;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// One pod: its VM (started with the first container, stopped with the last), its containers and
/// their processes. It owns the VM provider (disposed with it when disposable). Host side of storage (rootfs and bind mounts into the shared folder), stdio
/// forwarding and exit tracking live here; everything inside the guest is the agent's.
/// </summary>
public sealed class PodRuntime : IPodRuntime
{
    /// <summary>The exit code a Wait reports for an exec whose start failed (it never ran, so it did not succeed).</summary>
    private const uint ExecNeverStartedExitCode = 255;

    private readonly PodRuntimeOptions _options;
    private readonly IPodVmProvider _vms;
    private readonly IMounter _mounter;
    private readonly ILog _log;
    private readonly object _gate = new();
    private readonly Dictionary<string, PodContainer> _containers = [];
    private readonly HashSet<string> _creating = [];
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _vmLock = new(1, 1);
    private readonly Dictionary<string, (int Vcpus, int MemoryMiB)> _shares = [];
    private (int Vcpus, int MemoryMiB)? _annotatedBase;
    private (int Vcpus, int MemoryMiB) _sizedTo;
    private IPodVm? _vm;
    private IPodNetwork? _network;
    private TapAttachment? _podNetwork;
    private PortForwardRelay? _portForward;
    private bool _disposed;

    /// <param name="network">The host side of pod networking; null: tc redirects through iproute2
    /// (<see cref="TcRedirectNetwork"/>), made when a pod first needs it.</param>
    public PodRuntime(PodRuntimeOptions options, IPodVmProvider vms, IMounter mounter, ILog log, IPodNetwork? network = null)
    {
        _options = options;
        _vms = vms;
        _mounter = mounter;
        _log = log;
        _network = network;
    }

    public int ContainerCount
    {
        get
        {
            lock (_gate)
                return _containers.Count + _creating.Count;
        }
    }

    public IAsyncEnumerable<RuntimeEvent> Events => _events.Reader.ReadAllAsync();

    private string SharedDir => _options.Paths.SharedDir(_options.Namespace, _options.PodId);

    // ---- create / start ---------------------------------------------------------------------

    public async Task<uint> CreateAsync(CreateContainerRequest request, CancellationToken cancellationToken)
    {
        var bundle = Bundle.Load(request.Bundle);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_containers.ContainsKey(request.Id) || !_creating.Add(request.Id))
                throw StencilException.AlreadyExists($"container \"{request.Id}\" already exists");
        }

        var init = new PodProcess(request.Id, "", request.Stdio, ReadOnlyMemory<byte>.Empty);
        var container = new PodContainer(request.Id, bundle, init, request.RootfsMounts);
        try
        {
            // Everything that can be refused from the host side alone is refused before a VM starts.
            var podBase = PodSizing.Base(_options.BaseVcpus, _options.BaseMemoryMiB, bundle.Spec.Annotations);
            var plan = GuestSpecBuilder.Build(bundle.Spec, request.Id, File.Exists, (major, minor) => HostDevices.FindBlockDevice(major, minor),
                HostTmpfs.Snapshot());
            CheckHostSources(container, plan);
            foreach (var note in plan.Notes)
                _log.Debug($"container {request.Id}: {note}");

            var vm = await EnsureVmAsync(request.Id, bundle, cancellationToken).ConfigureAwait(false);
            await GrowVmForAsync(vm, request.Id, bundle.Spec,
                PodSizing.HasBaseAnnotations(bundle.Spec.Annotations) ? podBase : null, cancellationToken).ConfigureAwait(false);
            MountHostStorage(container, plan);
            var devices = await AttachDevicesAsync(vm, container, plan, cancellationToken).ConfigureAwait(false);

            var pid = await vm.Agent.CreateContainerAsync(new ContainerConfig(request.Id, plan.GuestSpecJson, plan.Storages, Devices: devices), cancellationToken)
                .ConfigureAwait(false);
            container.CreatedInGuest = true;
            init.Pid = (uint)pid;
            init.Forwarder = StdioForwarder.Start(vm.Agent, request.Id, null, request.Stdio, _log);
            // Waiting starts now: a container killed before it is started exits too.
            init.Waiter = WaitForExitAsync(vm, init);
            lock (_gate)
            {
                _creating.Remove(request.Id);
                _containers.Add(request.Id, container);
            }
            Publish(new TaskCreated(DateTimeOffset.UtcNow, request.Id, request.Bundle, request.RootfsMounts, request.Stdio, init.Pid));
            _log.Info($"container {request.Id} created in the guest (pid {pid})");
            return init.Pid;
        }
        catch
        {
            lock (_gate)
            {
                _creating.Remove(request.Id);
                _shares.Remove(request.Id);
            }
            await CleanupContainerAsync(container, removeInGuest: container.CreatedInGuest).ConfigureAwait(false);
            await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Hot-adds vCPUs and memory so the VM holds its base size plus every container's limits
    /// (<see cref="PodSizing"/>). The VM never shrinks; a share is forgotten when its container goes.
    /// <paramref name="annotatedBase"/>: the base the spec's io.stencil.* annotations ask for (the sandbox's,
    /// and containerd repeats them on every container of the pod); it replaces the configured base.
    /// </summary>
    private async Task GrowVmForAsync(IPodVm vm, string id, Oci.Model.Spec spec, (int Vcpus, int MemoryMiB)? annotatedBase, CancellationToken cancellationToken)
    {
        var share = PodSizing.ContainerShare(spec);
        (int Vcpus, int MemoryMiB) target;
        (int Vcpus, int MemoryMiB) podBase;
        lock (_gate)
        {
            if (annotatedBase is not null)
                _annotatedBase = annotatedBase;
            if (share != (0, 0))
                _shares[id] = share;
            podBase = _annotatedBase ?? (_options.BaseVcpus, _options.BaseMemoryMiB);
            target = PodSizing.Total(podBase.Vcpus, podBase.MemoryMiB, _shares.Values);
            // Nothing to hot-add: the VM already has this (it starts at the configured base).
            if (target == _sizedTo || (_annotatedBase is null && share == (0, 0)))
                return;
        }
        await vm.ResizeAsync(target.Vcpus, target.MemoryMiB, cancellationToken).ConfigureAwait(false);
        lock (_gate)
            _sizedTo = target;
        _log.Info($"container {id}: VM sized to {target.Vcpus} vCPUs and {target.MemoryMiB} MiB (base {podBase.Vcpus} vCPUs, {podBase.MemoryMiB} MiB; container adds {share.Vcpus} vCPUs, {share.MemoryMiB} MiB)");
    }

    /// <summary>The host paths the container needs exist (checked before a VM is started for it).</summary>
    private static void CheckHostSources(PodContainer container, GuestSpecPlan plan)
    {
        if (container.RootfsMounts.Count == 0)
            container.Bundle.EnsureRootfsExists();
        foreach (var bind in plan.HostBinds)
        {
            if (!File.Exists(bind.HostPath) && !Directory.Exists(bind.HostPath))
                throw StencilException.NotFound($"container {container.Id}: bind mount source {bind.HostPath} does not exist");
        }
    }

    /// <summary>Mounts the rootfs and the bind-mount sources into the shared folder.</summary>
    private void MountHostStorage(PodContainer container, GuestSpecPlan plan)
    {
        var paths = _options.Paths;
        var rootfs = paths.ContainerRootfs(_options.Namespace, _options.PodId, container.Id);
        Directory.CreateDirectory(rootfs);
        if (container.RootfsMounts.Count > 0)
        {
            foreach (var m in container.RootfsMounts)
            {
                _mounter.Mount(m, rootfs);
                container.HostMounts.Add(rootfs);
            }
        }
        else
        {
            _mounter.Mount(new MountSpec("bind", container.Bundle.RootfsPath, "", ["rbind"]), rootfs);
            container.HostMounts.Add(rootfs);
        }

        foreach (var bind in plan.HostBinds)
        {
            var target = Path.Combine(SharedDir, bind.SharedRelativePath);
            if (bind.IsFile)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, []);
            }
            else
            {
                Directory.CreateDirectory(target);
            }
            List<string> options = bind.ReadOnly ? ["rbind", "ro"] : ["rbind"];
            if (bind.Propagation is { } propagation)
                options.Add(propagation);
            _mounter.Mount(new MountSpec("bind", bind.HostPath, "", options), target);
            container.HostMounts.Add(target);
        }
    }

    /// <summary>Hot-plugs the container's host block devices; the agent finds each by its serial.</summary>
    private async Task<List<ContainerDevice>> AttachDevicesAsync(IPodVm vm, PodContainer container, GuestSpecPlan plan, CancellationToken cancellationToken)
    {
        var devices = new List<ContainerDevice>();
        foreach (var d in plan.BlockDevices)
        {
            var serial = await vm.AttachBlockDeviceAsync(d.HostPath, d.ReadOnly, cancellationToken).ConfigureAwait(false);
            container.Devices.Add(new AttachedDevice(serial, d.HostPath, d.ContainerPath));
            devices.Add(new ContainerDevice(serial, d.ContainerPath));
            _log.Info($"container {container.Id}: {d.HostPath} hot-plugged as virtio-blk {serial} for {d.ContainerPath}");
        }
        return devices;
    }

    public async Task<uint> StartAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (container, process) = Find(id, execId);
        process.Lifecycle.EnsureCanStart();
        var vm = RequireVm();
        if (process.ExecId.Length == 0)
        {
            await vm.Agent.StartContainerAsync(id, cancellationToken).ConfigureAwait(false);
            process.Lifecycle.Started(process.Pid);
            Publish(new TaskStarted(DateTimeOffset.UtcNow, id, process.Pid));
        }
        else
        {
            container.Init.Lifecycle.EnsureRunning("exec in");
            int pid;
            try
            {
                pid = await vm.Agent.ExecProcessAsync(id, process.ExecId, process.ProcessJson, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StencilException or OperationCanceledException)
            {
                // The process never ran: a Wait on it must return now (as runc's shim does), or containerd,
                // which kills and waits for a failed exec before deleting it, waits out its whole deadline.
                // No exit event: nothing was started.
                process.Lifecycle.RecordExit(ExecNeverStartedExitCode, DateTimeOffset.UtcNow);
                throw;
            }
            process.Pid = (uint)pid;
            process.Forwarder = StdioForwarder.Start(vm.Agent, id, process.ExecId, process.Stdio, _log);
            process.Lifecycle.Started(process.Pid);
            process.Waiter = WaitForExitAsync(vm, process);
            Publish(new TaskExecStarted(DateTimeOffset.UtcNow, id, process.ExecId, process.Pid));
        }
        return process.Pid;
    }

    public Task ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        var processSpec = SpecJson.ParseProcess(request.ProcessJson.Span, $"exec {request.ExecId}");
        var errors = new List<string>();
        SpecValidator.ValidateProcess(processSpec, "process", errors);
        if (errors.Count > 0)
            throw StencilException.InvalidArgument($"exec {request.ExecId}: {string.Join("; ", errors)}");
        lock (_gate)
        {
            var container = Get(request.Id);
            container.Init.Lifecycle.EnsureRunning("exec in");
            if (container.Execs.ContainsKey(request.ExecId))
                throw StencilException.AlreadyExists($"exec \"{request.ExecId}\" of container \"{request.Id}\" already exists");
            container.Execs.Add(request.ExecId, new PodProcess(request.Id, request.ExecId, request.Stdio, request.ProcessJson));
        }
        Publish(new TaskExecAdded(DateTimeOffset.UtcNow, request.Id, request.ExecId));
        return Task.CompletedTask;
    }

    /// <summary>Waits in the agent for the exit, lets the output drain, records the exit once and announces it.</summary>
    private async Task WaitForExitAsync(IPodVm vm, PodProcess process)
    {
        uint code;
        DateTimeOffset at;
        try
        {
            var exit = await vm.Agent.WaitProcessAsync(process.ContainerId, process.AgentExecId, CancellationToken.None).ConfigureAwait(false);
            code = (uint)exit.ExitCode;
            at = exit.ExitedAt;
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException)
        {
            // The VM (or the link to it) is gone: the process is gone with it.
            code = _options.VmDiedExitCode;
            at = DateTimeOffset.UtcNow;
            _log.Warning($"{process.Lifecycle.What}: lost while waiting for its exit: {vm.ExitReason ?? ex.Message}");
        }
        if (process.Forwarder is { } forwarder)
            await Task.WhenAny(forwarder.OutputDone, Task.Delay(_options.OutputDrainTimeout)).ConfigureAwait(false);
        if (process.Lifecycle.RecordExit(code, at))
        {
            Publish(new TaskExited(DateTimeOffset.UtcNow, process.ContainerId, process.ExecId.Length == 0 ? process.ContainerId : process.ExecId,
                process.Pid, code, at));
            _log.Info($"{process.Lifecycle.What} exited with status {code}");
        }
    }

    // ---- state and control ------------------------------------------------------------------

    public ProcessStatus State(string id, string? execId)
    {
        var (container, process) = Find(id, execId);
        var exit = process.Lifecycle.Exit;
        return new ProcessStatus(id, process.ExecId, container.Bundle.Path, process.Pid, process.Lifecycle.State, process.Stdio,
            exit?.ExitCode ?? 0, exit?.ExitedAt);
    }

    public Task<ExitStatus> WaitAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        return process.Lifecycle.Exited.WaitAsync(cancellationToken);
    }

    public async Task KillAsync(string id, string? execId, uint signal, bool all, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        process.Lifecycle.EnsureCanSignal();
        await RequireVm().Agent.SignalProcessAsync(id, process.AgentExecId, (int)signal, all, cancellationToken).ConfigureAwait(false);
    }

    public async Task PauseAsync(string id, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.BeginPause();
        var paused = false;
        try
        {
            await RequireVm().Agent.PauseContainerAsync(id, cancellationToken).ConfigureAwait(false);
            paused = true;
        }
        finally
        {
            init.Lifecycle.EndPause(paused);
        }
        Publish(new TaskPaused(DateTimeOffset.UtcNow, id));
    }

    public async Task ResumeAsync(string id, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.EnsureCanResume();
        await RequireVm().Agent.ResumeContainerAsync(id, cancellationToken).ConfigureAwait(false);
        init.Lifecycle.Resumed();
        Publish(new TaskResumed(DateTimeOffset.UtcNow, id));
    }

    public async Task<IReadOnlyList<uint>> PidsAsync(string id, CancellationToken cancellationToken)
    {
        Find(id, null);
        var processes = await RequireVm().Agent.ListProcessesAsync(id, cancellationToken).ConfigureAwait(false);
        return processes.Select(p => (uint)p.Pid).ToList();
    }

    public async Task ResizePtyAsync(string id, string? execId, uint width, uint height, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        if (!process.Stdio.Terminal)
            throw StencilException.FailedPrecondition($"{process.Lifecycle.What} has no terminal to resize");
        process.Lifecycle.EnsureRunning("resize the terminal of");
        await RequireVm().Agent.ResizeTtyAsync(id, process.AgentExecId, (int)height, (int)width, cancellationToken).ConfigureAwait(false);
    }

    public Task CloseStdinAsync(string id, string? execId, CancellationToken cancellationToken)
    {
        var (_, process) = Find(id, execId);
        process.Forwarder?.CloseStdin();
        return Task.CompletedTask;
    }

    public async Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken)
    {
        var (_, init) = Find(id, null);
        init.Lifecycle.EnsureRunning("update");
        await RequireVm().Agent.UpdateContainerAsync(id, resourcesJson, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ContainerStats> StatsAsync(string id, CancellationToken cancellationToken)
    {
        Find(id, null);
        var s = await RequireVm().Agent.StatsContainerAsync(id, cancellationToken).ConfigureAwait(false);
        return new ContainerStats(s.CpuUsageMicros * 1000, s.CpuUserMicros * 1000, s.CpuSystemMicros * 1000,
            s.MemoryUsageBytes, s.MemoryLimitBytes, s.MemoryFileBytes, s.PidsCurrent, s.PidsLimit, s.IoReadBytes, s.IoWriteBytes)
        {
            MemoryRssBytes = s.MemoryAnonBytes,
            MemoryPageFaults = s.MemoryPageFaults,
            MemoryMajorPageFaults = s.MemoryMajorPageFaults,
            MemoryInactiveFileBytes = s.MemoryInactiveFileBytes,
        };
    }

    // ---- delete -----------------------------------------------------------------------------

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
            _shares.Remove(id);
        }
        await CleanupContainerAsync(container, removeInGuest: true).ConfigureAwait(false);
        var exit = process.Lifecycle.Exit ?? new ExitStatus(process.Pid, 0, null);
        Publish(new TaskDeleted(DateTimeOffset.UtcNow, id, exit.Pid, exit.ExitCode, exit.ExitedAt ?? DateTimeOffset.UtcNow));
        await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
        return exit;
    }

    private async Task CleanupContainerAsync(PodContainer container, bool removeInGuest)
    {
        foreach (var p in container.Execs.Values.Append(container.Init))
        {
            if (p.Forwarder is { } f)
                await f.DisposeAsync().ConfigureAwait(false);
        }
        if (removeInGuest && _vm is { } vm && !vm.Exited.IsCompleted)
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
        var paths = _options.Paths;
        foreach (var dir in new[]
                 {
                     paths.ContainerSharedDir(_options.Namespace, _options.PodId, container.Id),
                     paths.ContainerDir(_options.Namespace, _options.PodId, container.Id),
                 })
        {
            try
            {
                SafeDirectory.RemoveTree(dir, _mounter);
            }
            catch (Exception ex) when (ex is StencilException or IOException)
            {
                _log.Error($"container {container.Id}: cleanup of {dir} failed: {ex.Message}");
            }
        }
    }

    // ---- the VM -----------------------------------------------------------------------------

    /// <summary>
    /// The pod's VM, started for the first container. Under CRI that is the sandbox (pause) container:
    /// its spec names the pod's network namespace, which CNI has set up, so the VM gets the pod's
    /// network before any container runs. The sandbox container itself runs in the guest like any
    /// other (as Kata does): it holds the pod's VM for its whole life (the VM stops with the last
    /// container), and its Wait completes when StopPodSandbox kills it. Later containers of the pod
    /// name the same namespace and join the VM as it is. A pod without a network namespace of its own
    /// (host network), or sharing the host's PID or IPC namespace, is refused here, before a VM starts.
    /// </summary>
    private async Task<IPodVm> EnsureVmAsync(string firstContainerId, Bundle firstBundle, CancellationToken cancellationToken)
    {
        await _vmLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_vm is { } existing)
            {
                if (existing.Exited.IsCompleted)
                    throw StencilException.Unavailable($"the VM of pod {_options.PodId} is gone: {existing.ExitReason}");
                return existing;
            }
            var networkNamespace = PodNetworkNamespace.FromSpec(firstBundle.Spec, firstContainerId);
            PodHostNamespaces.Refuse(firstBundle.Spec, firstContainerId);
            var nft = networkNamespace is null ? null : FindNftForPortForwarding();
            Directory.CreateDirectory(SharedDir);
            var runDir = _options.Paths.VmDir(_options.Namespace, _options.PodId);
            Directory.CreateDirectory(runDir);
            var vm = await _vms.StartAsync(new PodVmRequest($"pod {_options.Namespace}/{_options.PodId}", SharedDir, runDir), cancellationToken).ConfigureAwait(false);
            try
            {
                await vm.Agent.CreateSandboxAsync(new SandboxConfig(_options.PodId, Hostname: firstBundle.Spec.Hostname,
                    Shared: new SharedFolderConfig(PodVmRequest.SharedMountTag)), cancellationToken).ConfigureAwait(false);
                if (networkNamespace is not null)
                {
                    _network ??= new TcRedirectNetwork(log: _log);
                    _podNetwork = await PodNetworkSetup.AttachAsync(_network, vm, networkNamespace, cancellationToken).ConfigureAwait(false);
                    _log.Info($"pod {_options.PodId}: network of {networkNamespace} in the VM ({_podNetwork.Interface})");
                    _portForward = await StartPortForwardAsync(vm, networkNamespace, nft!, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                await StopPortForwardAsync().ConfigureAwait(false);
                await vm.DisposeAsync().ConfigureAwait(false);
                await DetachNetworkAsync().ConfigureAwait(false);
                throw;
            }
            if (Path.TrimEndingDirectorySeparator(vm.SharedDirectory) != Path.TrimEndingDirectorySeparator(SharedDir))
            {
                // A pooled VM exports a folder chosen before the pod existed: the pod's folder points there,
                // so every path the runtime and `delete` use stays the same.
                Directory.Delete(SharedDir);
                Directory.CreateSymbolicLink(SharedDir, vm.SharedDirectory);
            }
            _log.Info($"pod {_options.PodId}: VM ready ({vm.Origin}, {vm.StartupTime.TotalMilliseconds:F0} ms, qemu pid {vm.ProcessId})");
            _vm = vm;
            return vm;
        }
        finally
        {
            _vmLock.Release();
        }
    }

    /// <summary>nft, which the port-forward relay needs; without it every CRI PortForward to the pod would
    /// fail, so the pod is refused (before its VM starts) with the reason.</summary>
    private string FindNftForPortForwarding()
    {
        try
        {
            return PortForwardRelay.FindNft();
        }
        catch (StencilException ex)
        {
            throw StencilException.FailedPrecondition($"port forwarding for pod {_options.PodId} could not be set up: {ex.Message}");
        }
    }

    /// <summary>
    /// The relay that takes containerd's PortForward dials in the pod's namespace to the guest. Any
    /// failure other than a missing nft is logged and the pod runs without port forwarding.
    /// </summary>
    private async Task<PortForwardRelay?> StartPortForwardAsync(IPodVm vm, string networkNamespace, string nft, CancellationToken cancellationToken)
    {
        try
        {
            return await PortForwardRelay.StartAsync(networkNamespace, vm.Agent, nft, _log, $"pod {_options.PodId}", cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _log.Error($"port forwarding for pod {_options.PodId} could not be set up: {ex.Message}; the pod runs without it");
            return null;
        }
    }

    /// <summary>Closes the relay's listener and connections and removes its rule (before the VM goes, so guest streams close cleanly).</summary>
    private async Task StopPortForwardAsync()
    {
        if (_portForward is not { } relay)
            return;
        _portForward = null;
        await relay.DisposeAsync().ConfigureAwait(false);
    }

    private IPodVm RequireVm() =>
        _vm ?? throw StencilException.FailedPrecondition($"pod {_options.PodId} has no VM");

    /// <summary>
    /// Stops the VM once no container is left. Otherwise unplugs <paramref name="release"/>, the disks a
    /// removed container had: under the same lock, so a container being created meanwhile either keeps
    /// the VM (and the disks go) or finds it stopped. With the VM stopping, QEMU's exit releases them;
    /// an unplug would only add the guest's PCIe hotplug delay.
    /// </summary>
    private async Task StopVmIfIdleAsync(IReadOnlyList<AttachedDevice>? release = null)
    {
        await _vmLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (ContainerCount > 0)
            {
                if (_vm is not null && release is { Count: > 0 })
                    await DetachDevicesAsync(_vm, release).ConfigureAwait(false);
                return;
            }
            await StopPortForwardAsync().ConfigureAwait(false);
            if (_vm is { } vm)
            {
                _vm = null;
                lock (_gate)
                    _sizedTo = default;
                await vm.DisposeAsync().ConfigureAwait(false);
                _log.Info($"pod {_options.PodId}: VM stopped (no containers left)");
            }
            await DetachNetworkAsync().ConfigureAwait(false);
            // Also when no VM ever came up (its start failed): the folders made for it go.
            var podDir = _options.Paths.PodDir(_options.Namespace, _options.PodId);
            SafeDirectory.RemoveTree(podDir, _mounter);
            SafeDirectory.RemoveIfEmpty(Path.GetDirectoryName(podDir)!); // the namespace's folder, once its last pod is gone
            SafeDirectory.RemoveTree(_options.Paths.VmDir(_options.Namespace, _options.PodId), _mounter);
        }
        finally
        {
            _vmLock.Release();
        }
    }

    /// <summary>Removes the tap and the filters once QEMU is gone (it held the tap); CNI removes the veth later.</summary>
    private async Task DetachNetworkAsync()
    {
        if (_podNetwork is not { } attachment || _network is null)
            return;
        _podNetwork = null;
        try
        {
            await _network.DetachAsync(attachment, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _log.Error($"pod {_options.PodId}: detaching the network of {attachment.NetworkNamespacePath} failed: {ex.Message}");
        }
    }

    private async Task DetachDevicesAsync(IPodVm vm, IReadOnlyList<AttachedDevice> devices)
    {
        foreach (var d in devices)
        {
            if (vm.Exited.IsCompleted)
            {
                // A dead VM holds nothing: QEMU's exit closed the host device.
                _log.Debug($"{d.HostPath} ({d.Serial}): the VM is gone, nothing to unplug");
                continue;
            }
            try
            {
                await vm.DetachBlockDeviceAsync(d.Serial, CancellationToken.None).ConfigureAwait(false);
                _log.Info($"{d.HostPath} ({d.Serial}) unplugged from the VM");
            }
            catch (Exception ex) when (ex is StencilException or ObjectDisposedException)
            {
                _log.Warning($"unplugging {d.HostPath} ({d.Serial}) for {d.ContainerPath} failed: {ex.Message}");
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private PodContainer Get(string id)
    {
        lock (_gate)
        {
            return _containers.TryGetValue(id, out var c)
                ? c
                : throw StencilException.NotFound($"container \"{id}\" not found");
        }
    }

    private (PodContainer Container, PodProcess Process) Find(string id, string? execId)
    {
        lock (_gate)
        {
            var container = Get(id);
            return (container, container.Process(execId));
        }
    }

    private void Publish(RuntimeEvent e) => _events.Writer.TryWrite(e);

    public async ValueTask DisposeAsync()
    {
        List<PodContainer> left;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            left = [.. _containers.Values];
            _containers.Clear();
        }
        foreach (var c in left)
            await CleanupContainerAsync(c, removeInGuest: false).ConfigureAwait(false);
        await StopVmIfIdleAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        if (_vms is IAsyncDisposable provider)
            await provider.DisposeAsync().ConfigureAwait(false);
        _vmLock.Dispose();
    }
}
