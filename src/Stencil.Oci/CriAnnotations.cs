using Stencil.Oci.Model;

namespace Stencil.Oci;

/// <summary>The annotations containerd's CRI plugin puts on every container's spec.</summary>
public static class CriAnnotations
{
    public const string ContainerType = "io.kubernetes.cri.container-type";
    public const string SandboxId = "io.kubernetes.cri.sandbox-id";
    public const string ContainerTypeSandbox = "sandbox";
    public const string ContainerTypeContainer = "container";

    /// <summary>True for a pod's sandbox (pause) container, and for a lone container outside CRI.</summary>
    public static bool IsSandbox(Spec spec) =>
        !TryGet(spec, ContainerType, out var type) || type == ContainerTypeSandbox;

    /// <summary>The pod a container belongs to: the CRI sandbox id, or the container's own id outside CRI.</summary>
    public static string PodId(Spec spec, string containerId) =>
        TryGet(spec, SandboxId, out var id) && !string.IsNullOrEmpty(id) ? id : containerId;

    private static bool TryGet(Spec spec, string key, out string value)
    {
        value = "";
        return spec.Annotations is not null && spec.Annotations.TryGetValue(key, out value!);
    }
}
