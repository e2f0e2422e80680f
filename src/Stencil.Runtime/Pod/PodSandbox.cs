using Stencil.Agent.Client;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Network;
using Stencil.Runtime.Storage;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The pod's sandbox on the host: its VM (through <see cref="PodLifecycle"/>), the VM's network and the
/// port-forward relay, and the pod's folders. Started for the first container, stopped once none is left.
/// </summary>
/// <remarks>
/// Under CRI the first container is the sandbox (pause) container: its spec names the pod's network
/// namespace, which CNI has set up, so the VM gets the pod's network before any container runs. The
/// sandbox container itself runs in the guest like any other (as Kata does): it holds the pod's VM for
/// its whole life, and its Wait completes when StopPodSandbox kills it. Later containers of the pod name
/// the same namespace and join the VM as it is. A pod without a network namespace of its own (host
/// network), or sharing the host's PID or IPC namespace, is refused before a VM starts.
/// </remarks>
internal sealed partial class PodSandbox : IAsyncDisposable
{
    private readonly PodRuntimeOptions _options;
    private readonly IPodVmProvider _vms;
    private readonly IMounter _mounter;
    private readonly ILog _log;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IPodNetwork? _network;
    private TapAttachment? _podNetwork;
    private PortForwardRelay? _portForward;
    private PodHolder? _holder;
    private PodCgroup? _cgroup;
    private Task _teardown = Task.CompletedTask;

    public PodSandbox(PodRuntimeOptions options, IPodVmProvider vms, IMounter mounter, ILog log, IPodNetwork? network)
    {
        _options = options;
        _vms = vms;
        _mounter = mounter;
        _log = log;
        _network = network;
        Lifecycle = new PodLifecycle(options.PodId);
    }

    public PodLifecycle Lifecycle { get; }

    /// <summary>The pod's process on the host (the task pid containerd is given), there while the VM is.</summary>
    public PodHolder? Holder => _holder;

    /// <summary>Whether the pod's VM has the pod's network (a tap in a CNI namespace).</summary>
    public bool HasNetwork => _podNetwork is not null;

    /// <summary>The folder exported to the guest over 9p (where container root file systems go).</summary>
    public string SharedDir => _options.Paths.SharedDir(_options.Namespace, _options.PodId);

    /// <summary>The VM for a call into the guest (see <see cref="PodLifecycle.RequireVm"/>).</summary>
    public IPodVm RequireVm() => Lifecycle.RequireVm();

    /// <summary>The pod's VM, started for the first container (see the remarks) or by StartSandbox.</summary>
    /// <param name="spec">Read only when the VM is to be started (it may refuse the pod).</param>
    /// <returns>The VM, and whether this call started it (the container is the pod's first).</returns>
    public async Task<(IPodVm Vm, bool Started)> EnsureVmAsync(Func<PodVmSpec> spec, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Lifecycle.Vm is { } existing)
            {
                // Its exit (or its agent's end) may not have been noticed yet.
                if (existing.Exited.IsCompleted || existing.Agent.Closed.IsCompleted)
                    Lifecycle.VmDied(existing, FailureOf(existing));
                return (Lifecycle.RequireVm(), false);
            }
            Lifecycle.BeginVmStart();
            try
            {
                var vm = await StartVmAsync(spec(), cancellationToken).ConfigureAwait(false);
                Lifecycle.VmReady(vm);
                _ = WatchAsync(vm);
                if (_options.AgentHealth is { } health)
                    _ = WatchAgentHealthAsync(vm, health);
                return (vm, true);
            }
            catch
            {
                Lifecycle.VmStartFailed();
                throw;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<IPodVm> StartVmAsync(PodVmSpec spec, CancellationToken cancellationToken)
    {
        var networkNamespace = spec.NetworkNamespace;
        var nft = networkNamespace is null ? null : FindNftForPortForwarding();
        Directory.CreateDirectory(SharedDir);
        var runDir = _options.Paths.VmDir(_options.Namespace, _options.PodId);
        if (OperatingSystem.IsLinux())
            Directory.CreateDirectory(runDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // QEMU's sockets and the guest's console
        else
            Directory.CreateDirectory(runDir);
        // The host side of the pod's network (a tap in its namespace, the tc redirects) needs no VM: it is
        // made while the VM starts, and the VM's sandbox is created in the guest while the NIC is
        // hot-plugged and configured (independent steps; the agent serves calls concurrently).
        Task<TapAttachment>? tap = null;
        if (networkNamespace is not null)
        {
            _network ??= new TcRedirectNetwork(log: _log);
            tap = _network.AttachAsync(networkNamespace, cancellationToken);
        }
        // The holder (the pod's host pid) is started side by side with the VM: a few ms.
        var holder = _options.StartHolder ? PodHolder.StartAsync(networkNamespace, _options.PodId, cancellationToken) : Task.FromResult<PodHolder?>(null);
        IPodVm vm;
        try
        {
            vm = await _vms.StartAsync(new PodVmRequest($"pod {_options.Namespace}/{_options.PodId}", SharedDir, runDir), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DetachAfterFailureAsync(tap).ConfigureAwait(false);
            await DisposeHolderAfterFailureAsync(holder).ConfigureAwait(false);
            throw;
        }
        try
        {
            _holder = await holder.ConfigureAwait(false);
        }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            await DetachAfterFailureAsync(tap).ConfigureAwait(false);
            throw;
        }
        try
        {
            JoinCgroup(spec, vm);
            var steps = System.Diagnostics.Stopwatch.StartNew();
            double sandboxMs = 0, networkMs = 0;
            var sandbox = TimedAsync(vm.Agent.CreateSandboxAsync(SandboxConfigFor(spec), cancellationToken), ms => sandboxMs = ms);
            // The port-forward relay (a listener and an nft rule in the pod's namespace) needs neither the
            // guest's sandbox nor its NIC: it is set up side by side with both.
            var relay = networkNamespace is null
                ? Task.FromResult<PortForwardRelay?>(null)
                : StartPortForwardAsync(vm, networkNamespace, nft!, cancellationToken);
            try
            {
                if (tap is not null)
                {
                    _podNetwork = await tap.ConfigureAwait(false);
                    tap = null; // from here on DetachNetworkAsync removes it
                    var networkSteps = await PodNetworkSetup.ConnectAsync(vm, _podNetwork, cancellationToken).ConfigureAwait(false);
                    networkMs = steps.Elapsed.TotalMilliseconds;
                    _log.Info($"pod {_options.PodId}: network of {networkNamespace} in the VM ({_podNetwork.Interface})");
                    _log.Debug($"pod {_options.PodId}: network in the VM: {networkSteps}");
                }
            }
            finally
            {
                // Never left running unobserved, whichever failed; a relay that started is stopped with the rest.
                try
                {
                    await sandbox.ConfigureAwait(false);
                }
                finally
                {
                    _portForward = await relay.ConfigureAwait(false);
                }
            }
            _log.Debug($"pod {_options.PodId}: after the VM: sandbox in the guest {sandboxMs:F0} ms and network {networkMs:F0} ms "
                + $"(side by side with the port-forward relay), all ready at {steps.Elapsed.TotalMilliseconds:F0} ms");
        }
        catch
        {
            await StopPortForwardAsync().ConfigureAwait(false);
            await vm.DisposeAsync().ConfigureAwait(false);
            RemoveCgroup();
            await DetachAfterFailureAsync(tap).ConfigureAwait(false);
            await DetachNetworkAsync().ConfigureAwait(false);
            await StopHolderAsync().ConfigureAwait(false);
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
        return vm;
    }

    /// <summary>
    /// What the agent sets up: the hostname and the 9p share (unless shared_fs = "none"); in sandbox API mode also the pod's DNS and
    /// sysctls, and the agent holds the pod's IPC, UTS and PID namespaces itself (no pause container does).
    /// </summary>
    private SandboxConfig SandboxConfigFor(PodVmSpec spec) => spec.Sandbox is not { } pod
        ? new SandboxConfig(_options.PodId, Hostname: spec.Hostname, Shared: SharedFolder)
        : new SandboxConfig(_options.PodId, Hostname: pod.Hostname, DnsServers: pod.DnsServers, DnsSearch: pod.DnsSearch,
            DnsOptions: pod.DnsOptions, Shared: SharedFolder, PodNamespaces: new PodNamespacesConfig(pod.Sysctls));

    /// <summary>
    /// The 9p share the agent mounts; none with [hypervisor] shared_fs = "none" (the VM still has the device, which
    /// the template was made with, but QEMU refuses to save or migrate a VM only while its guest has the share mounted).
    /// </summary>
    private SharedFolderConfig? SharedFolder => _options.SharedFolder ? new SharedFolderConfig(PodVmRequest.SharedMountTag) : null;

    /// <summary>Awaits <paramref name="call"/> and reports how long it took from now.</summary>
    private static async Task TimedAsync(Task call, Action<double> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await call.ConfigureAwait(false);
        done(clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Stops the VM when <paramref name="idle"/> says no container is left (asked under the sandbox's lock,
    /// so a container being created meanwhile either keeps the VM or finds it stopped). Otherwise unplugs
    /// <paramref name="release"/>, the disks a removed container had; with the VM stopping, QEMU's exit
    /// releases them (an unplug would only add the guest's PCIe hotplug delay).
    /// </summary>
    public async Task StopIfIdleAsync(Func<bool> idle, IReadOnlyList<AttachedDevice>? release = null)
    {
        if (await BeginStopIfIdleAsync(idle, release).ConfigureAwait(false) is { } teardown)
            await teardown.Done.ConfigureAwait(false);
    }

    /// <summary>
    /// As <see cref="StopIfIdleAsync"/>, but returns as soon as the stop has begun, with the teardown
    /// (QEMU killed and reaped, network and folders removed) running; it holds the sandbox's lock until it
    /// is done, so a later create or <see cref="DisposeAsync"/> waits for it. Null: not idle (then
    /// <paramref name="release"/> has been unplugged) or already stopped.
    /// </summary>
    public async Task<PodTeardown?> BeginStopIfIdleAsync(Func<bool> idle, IReadOnlyList<AttachedDevice>? release = null)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        var handedOver = false;
        try
        {
            if (!idle())
            {
                if (Lifecycle.Vm is { } running && release is { Count: > 0 })
                    await PodDevices.DetachAsync(running, release, _log).ConfigureAwait(false);
                return null;
            }
            if (Lifecycle.State == PodState.Stopped)
                return null;
            var vm = Lifecycle.BeginStop();
            handedOver = true;
            var networkReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var teardown = TeardownAsync(vm, networkReleased);
            _teardown = teardown;
            return new PodTeardown(networkReleased.Task, teardown);
        }
        finally
        {
            if (!handedOver)
                _lock.Release();
        }
    }

    /// <summary>
    /// Kills the VM and removes what the pod had on the host, then releases the sandbox's lock (taken by
    /// <see cref="BeginStopIfIdleAsync"/>). QEMU is killed, not shut down: nothing in the guest is worth
    /// waiting for once no container is left (see PodRuntime.DeleteAsync for why no data is lost).
    /// Never throws: failures are logged.
    /// </summary>
    private async Task TeardownAsync(IPodVm? vm, TaskCompletionSource networkReleased)
    {
        await Task.Yield(); // the caller goes on at once
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await StopPortForwardAsync().ConfigureAwait(false);
            if (vm is not null)
            {
                await vm.DisposeAsync().ConfigureAwait(false);
                _log.Info($"pod {_options.PodId}: VM stopped (no containers left)");
            }
            RemoveCgroup();
            await DetachNetworkAsync().ConfigureAwait(false);
            await StopHolderAsync().ConfigureAwait(false);
            networkReleased.TrySetResult();
            // Also when no VM ever came up (its start failed): the folders made for it go.
            var podDir = _options.Paths.PodDir(_options.Namespace, _options.PodId);
            SafeDirectory.RemoveTree(podDir, _mounter);
            SafeDirectory.RemoveIfEmpty(Path.GetDirectoryName(podDir)!); // the namespace's folder, once its last pod is gone
            SafeDirectory.RemoveTree(_options.Paths.VmDir(_options.Namespace, _options.PodId), _mounter);
            _log.Debug($"pod {_options.PodId}: teardown took {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        catch (Exception ex)
        {
            _log.Error($"pod {_options.PodId}: teardown failed: {ex.Message}");
        }
        finally
        {
            networkReleased.TrySetResult();
            Lifecycle.StopCompleted();
            _lock.Release();
        }
    }

    private async Task StopHolderAsync()
    {
        if (_holder is not { } holder)
            return;
        _holder = null;
        await holder.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task DisposeHolderAfterFailureAsync(Task<PodHolder?> holder)
    {
        try
        {
            if (await holder.ConfigureAwait(false) is { } started)
                await started.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException)
        {
            // it never started
        }
    }

    /// <summary>Stops whatever runs and closes the lifecycle for good.</summary>
    public async ValueTask DisposeAsync()
    {
        // A teardown still running in the background (the last Delete's) holds the lock: this waits for it.
        await StopIfIdleAsync(static () => true).ConfigureAwait(false);
        await _teardown.ConfigureAwait(false);
        Lifecycle.Close();
        if (_vms is IAsyncDisposable provider)
            await provider.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }
}
