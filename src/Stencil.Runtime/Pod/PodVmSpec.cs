using Stencil.Oci;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Pod;

/// <summary>
/// What the pod's VM is started with: the network CNI prepared, the hostname, and, in sandbox API mode,
/// the pod's own configuration (DNS, sysctls; the agent then holds the pod's namespaces, there being no
/// pause container). Made from the first container's bundle or from CreateSandbox, after the host-side
/// refusals, so nothing is started for a pod that cannot run.
/// </summary>
/// <param name="Owner">Names what started the VM in messages ("container c1", "sandbox s1").</param>
/// <param name="NetworkNamespace">Null: the pod has no network of its own to join (a new, empty namespace).</param>
/// <param name="Sandbox">Set in sandbox API mode.</param>
/// <param name="CgroupsPath">The pod's cgroup on the host, where QEMU goes (<see cref="PodCgroup"/>); null: none given.</param>
internal sealed record PodVmSpec(string Owner, string? NetworkNamespace, string? Hostname, SandboxRequest? Sandbox = null, string? CgroupsPath = null)
{
    /// <summary>From the pod's first container (the pause container under CRI): refuses host namespaces.</summary>
    public static PodVmSpec FromBundle(string containerId, Bundle bundle)
    {
        var network = PodNetworkNamespace.FromSpec(bundle.Spec, containerId);
        PodHostNamespaces.Refuse(bundle.Spec, containerId);
        var cgroupsPath = NonEmpty(bundle.Spec.Linux?.CgroupsPath);
        if (cgroupsPath is not null)
            PodCgroup.ToRelativePath(cgroupsPath); // refused before a VM starts
        return new PodVmSpec($"container {containerId}", network, bundle.Spec.Hostname, CgroupsPath: cgroupsPath);
    }

    /// <summary>From CreateSandbox: refuses what a VM cannot give, in the same words as for a pause container.</summary>
    public static PodVmSpec FromSandbox(SandboxRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var who = $"pod sandbox \"{request.Id}\"";
        if (string.IsNullOrEmpty(request.NetworkNamespace))
        {
            throw StencilException.Unimplemented(
                $"{who} asks for the host's network (no network namespace was given): "
                + "host network is not supported by a VM runtime; run the pod without hostNetwork or with another runtime class");
        }
        if (!Path.IsPathFullyQualified(request.NetworkNamespace))
            throw StencilException.InvalidArgument($"{who}: network namespace path \"{request.NetworkNamespace}\" is not absolute");
        if (request.PidMode == PodNamespaceMode.Node)
        {
            throw StencilException.Unimplemented(
                $"{who} asks for the host's PID namespace: host PID namespace is not supported by a VM runtime, "
                + "a VM cannot share the host's PID namespace; run the pod without hostPID or with another runtime class");
        }
        if (request.IpcMode == PodNamespaceMode.Node)
        {
            throw StencilException.Unimplemented(
                $"{who} asks for the host's IPC namespace: host IPC namespace is not supported by a VM runtime, "
                + "a VM cannot share the host's IPC namespace; run the pod without hostIPC or with another runtime class");
        }
        if (request.UserNamespace)
            throw StencilException.Unimplemented($"{who} asks for a user namespace (userns mode POD): not supported by stencil yet");
        var cgroupsPath = PodCgroup.ForSandbox(request.CgroupParent, request.Id);
        if (cgroupsPath is not null)
            PodCgroup.ToRelativePath(cgroupsPath);
        return new PodVmSpec($"sandbox {request.Id}", request.NetworkNamespace, request.Hostname, request, cgroupsPath);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
