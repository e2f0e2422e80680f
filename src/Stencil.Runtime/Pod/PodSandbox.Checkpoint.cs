using Stencil.Factory;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

internal sealed partial class PodSandbox
{
    /// <summary>
    /// The pod's VM restored from a checkpoint instead of started: the sandbox in the guest is the saved
    /// one (nothing is created there), the holder and cgroup are made anew on this host. A pod that has
    /// a VM already is refused: a checkpoint restores into a pod of its own.
    /// </summary>
    public async Task<IPodVm> RestoreVmAsync(PodVmSpec spec, VmCheckpoint checkpoint, string folder, IReadOnlyList<(VmCheckpointDisk Disk, string HostPath)> disks,
        CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Lifecycle.Vm is not null)
                throw StencilException.FailedPrecondition($"pod {_options.PodId} has a VM already: a checkpoint is restored into a pod of its own");
            Lifecycle.BeginVmStart();
            try
            {
                Directory.CreateDirectory(SharedDir);
                var runDir = _options.Paths.VmDir(_options.Namespace, _options.PodId);
                if (OperatingSystem.IsLinux())
                    Directory.CreateDirectory(runDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                else
                    Directory.CreateDirectory(runDir);
                _holder = _options.StartHolder ? await PodHolder.StartAsync(null, _options.PodId, cancellationToken).ConfigureAwait(false) : null;
                IPodVm vm;
                try
                {
                    vm = await _vms.RestoreAsync(new PodVmRequest($"pod {_options.Namespace}/{_options.PodId}", SharedDir, runDir), checkpoint, folder, disks,
                        cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await StopHolderAsync().ConfigureAwait(false);
                    throw;
                }
                try
                {
                    JoinCgroup(spec, vm);
                }
                catch
                {
                    await vm.DisposeAsync().ConfigureAwait(false);
                    await StopHolderAsync().ConfigureAwait(false);
                    throw;
                }
                Lifecycle.VmReady(vm);
                _ = WatchAsync(vm);
                if (_options.AgentHealth is { } health)
                    _ = WatchAgentHealthAsync(vm, health);
                _log.Info($"pod {_options.PodId}: VM restored from a checkpoint ({vm.StartupTime.TotalMilliseconds:F0} ms, qemu pid {vm.ProcessId})");
                return vm;
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
}
