using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// How big a pod's VM must be. As in Kata, the VM keeps its own base size (the template's: [hypervisor]
/// default_vcpus and default_memory, which the guest kernel, agent and page cache use) and every container's
/// limits are added on top: vCPUs = base + ceil(quota / period) per container, memory = base + limit.
/// A container without limits adds nothing. Pure.
/// </summary>
public static class PodSizing
{
    private const long MiB = 1024 * 1024;

    /// <summary>What one container adds to the VM: whole vCPUs and MiB (rounded up).</summary>
    public static (int Vcpus, int MemoryMiB) ContainerShare(Spec spec)
    {
        var resources = spec.Linux?.Resources;
        var vcpus = 0;
        if (resources?.Cpu is { Quota: > 0 } cpu)
        {
            var period = cpu.Period is > 0 ? (long)cpu.Period.Value : 100_000;
            vcpus = (int)Math.Min(int.MaxValue, (cpu.Quota.Value + period - 1) / period);
        }
        var memory = 0;
        if (resources?.Memory?.Limit is > 0 and var limit)
            memory = (int)Math.Min(int.MaxValue, (limit + MiB - 1) / MiB);
        return (vcpus, memory);
    }

    /// <summary>The VM size for a base size plus the containers' shares.</summary>
    public static (int Vcpus, int MemoryMiB) Total(int baseVcpus, int baseMemoryMiB, IEnumerable<(int Vcpus, int MemoryMiB)> shares)
    {
        var vcpus = baseVcpus;
        var memory = baseMemoryMiB;
        foreach (var (v, m) in shares)
        {
            vcpus += v;
            memory += m;
        }
        return (vcpus, memory);
    }
}
