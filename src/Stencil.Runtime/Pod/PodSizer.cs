using Stencil.Oci.Model;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Hot-adds vCPUs and memory so the VM holds its base size plus every container's limits
/// (<see cref="PodSizing"/>). The VM never shrinks; a share is forgotten when its container goes.
/// </summary>
/// <param name="beforeGrow">Told the VM's new memory in MiB before it is hot-added (the pod's cgroup limit rises first).</param>
internal sealed class PodSizer(PodRuntimeOptions options, ILog log, Action<int>? beforeGrow = null)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (int Vcpus, int MemoryMiB)> _shares = [];
    private (int Vcpus, int MemoryMiB)? _annotatedBase;
    private (int Vcpus, int MemoryMiB) _sizedTo;
    private IPodVm? _sizedVm; // a new VM starts at the configured base, whatever the last one was grown to

    /// <param name="annotatedBase">The base the spec's io.stencil.* annotations ask for (the sandbox's, and
    /// containerd repeats them on every container of the pod); it replaces the configured base.</param>
    public async Task GrowForAsync(IPodVm vm, string id, Spec spec, (int Vcpus, int MemoryMiB)? annotatedBase, CancellationToken cancellationToken)
    {
        var share = PodSizing.ContainerShare(spec);
        (int Vcpus, int MemoryMiB) target;
        (int Vcpus, int MemoryMiB) podBase;
        lock (_gate)
        {
            if (!ReferenceEquals(vm, _sizedVm))
                (_sizedVm, _sizedTo) = (vm, default);
            if (annotatedBase is not null)
                _annotatedBase = annotatedBase;
            if (share != (0, 0))
                _shares[id] = share;
            podBase = _annotatedBase ?? (options.BaseVcpus, options.BaseMemoryMiB);
            target = PodSizing.Total(podBase.Vcpus, podBase.MemoryMiB, _shares.Values);
            // Nothing to hot-add: the VM already has this (it starts at the configured base).
            if (target == _sizedTo || (_annotatedBase is null && share == (0, 0)))
                return;
        }
        beforeGrow?.Invoke(target.MemoryMiB);
        await vm.ResizeAsync(target.Vcpus, target.MemoryMiB, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (ReferenceEquals(vm, _sizedVm))
                _sizedTo = target;
        }
        log.Info($"container {id}: VM sized to {target.Vcpus} vCPUs and {target.MemoryMiB} MiB (base {podBase.Vcpus} vCPUs, {podBase.MemoryMiB} MiB; container adds {share.Vcpus} vCPUs, {share.MemoryMiB} MiB)");
    }

    /// <summary>The container went: its limits no longer count.</summary>
    public void Forget(string id)
    {
        lock (_gate)
            _shares.Remove(id);
    }
}
