using System.Globalization;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// How big a pod's VM must be. As in Kata, the VM keeps its own base size (the template's: [hypervisor]
/// default_vcpus and default_memory, which the guest kernel, agent and page cache use) and every container's
/// limits are added on top: vCPUs = base + ceil(quota / period) per container, memory = base + limit.
/// A container without limits adds nothing. A pod may set its own base with the annotations
/// <see cref="VcpusAnnotation"/> and <see cref="MemoryAnnotation"/> (see config/annotations.md). Pure.
/// </summary>
public static class PodSizing
{
    /// <summary>The pod VM's base vCPUs, instead of [hypervisor] default_vcpus.</summary>
    public const string VcpusAnnotation = StencilAnnotations.Vcpus;

    /// <summary>The pod VM's base memory in MiB, instead of [hypervisor] default_memory.</summary>
    public const string MemoryAnnotation = StencilAnnotations.MemoryMiB;

    private const long MiB = 1024 * 1024;

    /// <summary>
    /// The pod's base size: <paramref name="defaultVcpus"/> and <paramref name="defaultMemoryMiB"/>, each
    /// replaced by its annotation when the spec has it. A value that is not a positive decimal integer is
    /// InvalidArgument naming the annotation and the value (refused before any VM starts).
    /// </summary>
    public static (int Vcpus, int MemoryMiB) Base(int defaultVcpus, int defaultMemoryMiB, IReadOnlyDictionary<string, string>? annotations) =>
        (Annotation(annotations, VcpusAnnotation) ?? defaultVcpus, Annotation(annotations, MemoryAnnotation) ?? defaultMemoryMiB);

    /// <summary>Whether the spec sets either sizing annotation.</summary>
    public static bool HasBaseAnnotations(IReadOnlyDictionary<string, string>? annotations) =>
        annotations is not null && (annotations.ContainsKey(VcpusAnnotation) || annotations.ContainsKey(MemoryAnnotation));

    private static int? Annotation(IReadOnlyDictionary<string, string>? annotations, string name)
    {
        if (annotations is null || !annotations.TryGetValue(name, out var value))
            return null;
        // Digits only: no sign, blanks or unit suffix, so "2" and "512" are the only spellings.
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            return n;
        throw StencilException.InvalidArgument($"annotation {name}=\"{value}\": expected a positive integer");
    }

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
