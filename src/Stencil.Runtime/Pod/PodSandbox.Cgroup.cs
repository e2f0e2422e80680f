using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

// The pod's cgroup on the host: QEMU joins it when the VM is there, its memory limit follows the VM's.
internal sealed partial class PodSandbox
{
    /// <summary>
    /// QEMU (every thread: vCPUs, I/O, TCG) into the pod's cgroup with the VM's memory plus QEMU's allowance
    /// as its limit; the shim too with sandbox_cgroup_only. Nothing when the spec names no cgroup or the VM
    /// has no host process (unit tests' fakes). A cgroup that cannot be made or joined fails the pod, as
    /// runc fails a container whose cgroup it cannot make.
    /// </summary>
    private void JoinCgroup(PodVmSpec spec, IPodVm vm)
    {
        if (spec.CgroupsPath is not { } path || vm.ProcessId is not { } pid)
            return;
        var cgroup = PodCgroup.Create(path, _options.CgroupRoot);
        _cgroup = cgroup;
        if (_options.CgroupMemoryOverheadMiB > 0)
            cgroup.SetMemoryLimit(MemoryLimitBytes(_options.BaseMemoryMiB));
        cgroup.Add(pid);
        if (_options.SandboxCgroupOnly)
            cgroup.Add(Environment.ProcessId, remember: true);
        _log.Debug($"pod {_options.PodId}: qemu pid {pid} in cgroup {cgroup.RelativePath}"
            + (_options.CgroupMemoryOverheadMiB > 0 ? $" (memory limit {MemoryLimitBytes(_options.BaseMemoryMiB) >> 20} MiB)" : ""));
    }

    private long MemoryLimitBytes(int vmMemoryMiB) => ((long)vmMemoryMiB + _options.CgroupMemoryOverheadMiB) << 20;

    /// <summary>The VM is about to grow to <paramref name="memoryMiB"/>: the cgroup's limit rises first.</summary>
    public void VmMemoryGrowing(int memoryMiB)
    {
        if (_cgroup is { } cgroup && _options.CgroupMemoryOverheadMiB > 0)
            cgroup.SetMemoryLimit(MemoryLimitBytes(memoryMiB));
    }

    /// <summary>After QEMU is gone: the shim back where it was (sandbox_cgroup_only), the folders made for the pod removed.</summary>
    private void RemoveCgroup()
    {
        if (_cgroup is not { } cgroup)
            return;
        _cgroup = null;
        cgroup.Remove(_log);
    }
}
