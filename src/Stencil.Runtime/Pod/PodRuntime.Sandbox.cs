using System.Diagnostics;
using System.Globalization;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// containerd 2.x's sandbox API (`sandboxer = "shim"`): the pod's VM is started by StartSandbox, before
/// any container, and stopped by StopSandbox; no pause container runs in it. The agent holds the pod's IPC,
/// UTS and PID namespaces and its hostname, hosts, resolv.conf and /dev/shm (what containerd and the pause
/// container provide in the other mode). While the sandbox exists it counts as one of the pod's
/// containers, so deleting the last real container neither stops the VM nor ends the shim.
/// </summary>
public sealed partial class PodRuntime : IPodSandboxRuntime
{
    private SandboxApiLifecycle? _sandboxApi;
    private SandboxRequest? _sandboxRequest;
    private PendingStart? _sandboxVmStart;

    public Task CreateSandboxAsync(SandboxRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Id != _options.PodId)
            throw StencilException.InvalidArgument($"sandbox \"{request.Id}\" does not belong to this shim, which serves pod {_options.PodId}");
        // Refused here, before anything starts, with the reasons a pause container would get.
        _ = PodVmSpec.FromSandbox(request);
        _ = PodSizing.Base(_options.BaseVcpus, _options.BaseMemoryMiB, request.Annotations);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_containers.ContainsKey(request.Id))
                throw StencilException.AlreadyExists($"pod {_options.PodId} already runs a sandbox container \"{request.Id}\"");
            var lifecycle = _sandboxApi ?? new SandboxApiLifecycle(request.Id);
            lifecycle.Create();
            _sandboxApi = lifecycle;
            _sandboxRequest = request;
        }
        _log.Info($"sandbox {request.Id} created (network {request.NetworkNamespace})");
        return Task.CompletedTask;
    }

    public async Task<SandboxStarted> StartSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var (lifecycle, request) = RequireSandbox(sandboxId);
        lifecycle.BeginStart();
        var clock = Stopwatch.StartNew();
        var began = DateTimeOffset.UtcNow;
        try
        {
            var (vm, _) = await EnsureVmAsync(() => PodVmSpec.FromSandbox(request), cancellationToken).ConfigureAwait(false);
            var vmMs = clock.Elapsed.TotalMilliseconds;
            if (PodSizing.HasBaseAnnotations(request.Annotations))
            {
                // The sandbox has no limits of its own (an empty spec adds nothing): only the pod's annotated base counts.
                await _sizer.GrowForAsync(vm, sandboxId, new Oci.Model.Spec(),
                    PodSizing.Base(_options.BaseVcpus, _options.BaseMemoryMiB, request.Annotations), cancellationToken).ConfigureAwait(false);
            }
            // The pod's holder: a host process in the pod's network namespace (QEMU is not in it).
            var pid = (uint)(_sandbox.Holder?.Pid ?? vm.ProcessId ?? 0);
            lifecycle.Started(pid);
            lock (_gate)
                _sandboxVmStart = new PendingStart(began, vm.Origin, vmMs, 0, 0);
            _ = WatchSandboxVmAsync(lifecycle, vm);
            _log.Info($"sandbox {sandboxId} started in {clock.Elapsed.TotalMilliseconds:F0} ms (vm {vm.Origin} {vmMs:F0} ms, qemu pid {vm.ProcessId}, holder pid {pid})");
            return new SandboxStarted(pid, lifecycle.CreatedAt);
        }
        catch
        {
            lifecycle.StartFailed();
            // Whatever was made for the VM goes now (containerd shuts the sandbox down after a failed start, too).
            await _sandbox.StopIfIdleAsync(static () => true).ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var (lifecycle, _) = RequireSandbox(sandboxId);
        if (!lifecycle.Stop())
            return;
        var clock = Stopwatch.StartNew();
        // The VM goes whatever still runs in it (CRI has stopped the containers first; any left die with it).
        // CNI removes the pod's namespace once this returns: QEMU, which holds the tap, is reaped and the
        // tap removed first.
        if (await _sandbox.BeginStopIfIdleAsync(static () => true).ConfigureAwait(false) is { } teardown)
            await teardown.NetworkReleased.ConfigureAwait(false);
        lifecycle.StopCompleted();
        _log.Info($"sandbox {sandboxId} stopped in {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    public Task<ExitStatus> WaitSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var (lifecycle, _) = RequireSandbox(sandboxId);
        return lifecycle.Exited.WaitAsync(cancellationToken);
    }

    public SandboxStatus SandboxStatus(string sandboxId, bool verbose)
    {
        var (lifecycle, request) = RequireSandbox(sandboxId);
        var vm = _sandbox.Lifecycle.Vm;
        var ready = lifecycle.State == SandboxApiState.Ready && vm is not null && !vm.Exited.IsCompleted;
        var info = new Dictionary<string, string>();
        if (verbose)
        {
            info["state"] = lifecycle.State.ToString().ToLowerInvariant();
            info["vm"] = _sandbox.Lifecycle.State.ToString().ToLowerInvariant();
            if (vm is not null)
            {
                info["vm_origin"] = vm.Origin;
                info["qemu_pid"] = (vm.ProcessId ?? 0).ToString(CultureInfo.InvariantCulture);
            }
            info["network_namespace"] = request.NetworkNamespace ?? "";
            info["containers"] = ContainerCount.ToString(CultureInfo.InvariantCulture);
        }
        var exited = lifecycle.Exited.IsCompletedSuccessfully ? lifecycle.Exited.Result.ExitedAt : null;
        return new SandboxStatus(sandboxId, lifecycle.Pid, ready, lifecycle.CreatedAt, exited, info);
    }

    public async Task ShutdownSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        SandboxApiLifecycle? created;
        lock (_gate)
            created = _sandboxApi;
        if (created is null && sandboxId == _options.PodId)
        {
            // CreateSandbox refused the pod: containerd still shuts the shim down, and it must go (nothing to stop).
            _log.Info($"sandbox {sandboxId} shut down (it was never created)");
            return;
        }
        var (lifecycle, _) = RequireSandbox(sandboxId);
        var was = lifecycle.Shutdown();
        // Without a Stop first (containerd's cleanup after a failed start), the VM goes now.
        if (was is SandboxApiState.Ready or SandboxApiState.Starting or SandboxApiState.Created)
            await _sandbox.StopIfIdleAsync(static () => true).ConfigureAwait(false);
        _log.Info($"sandbox {sandboxId} shut down");
    }

    /// <summary>Whether the sandbox API holds the pod (counted in <see cref="ContainerCount"/>).</summary>
    private bool SandboxHolds => _sandboxApi?.Holds == true;

    /// <summary>The VM part of the pod's start timeline, for the first container created in a started sandbox (once).</summary>
    private PendingStart? TakeSandboxVmStart()
    {
        lock (_gate)
        {
            var pending = _sandboxVmStart;
            _sandboxVmStart = null;
            return pending;
        }
    }

    private (SandboxApiLifecycle Lifecycle, SandboxRequest Request) RequireSandbox(string sandboxId)
    {
        lock (_gate)
        {
            if (_sandboxApi is not { } lifecycle || _sandboxRequest is not { } request)
                throw StencilException.NotFound($"sandbox \"{sandboxId}\" not found");
            lifecycle.RequireId(sandboxId);
            return (lifecycle, request);
        }
    }

    /// <summary>A VM that dies by itself ends the sandbox: WaitSandbox returns and CRI marks the pod not ready.</summary>
    private async Task WatchSandboxVmAsync(SandboxApiLifecycle lifecycle, IPodVm vm)
    {
        await vm.Exited.ConfigureAwait(false);
        if (lifecycle.State == SandboxApiState.Ready)
        {
            _log.Warning($"sandbox {_options.PodId}: the VM exited: {vm.ExitReason ?? "qemu exited"}");
            lifecycle.VmDied();
        }
    }
}
