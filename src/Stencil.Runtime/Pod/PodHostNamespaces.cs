using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The host namespaces a pod may ask for and a VM cannot give. containerd's CRI plugin leaves a
/// namespace out of the sandbox spec when the pod shares the host's (hostPID: the "pid" entry is
/// missing, hostIPC: the "ipc" entry is missing). The pod's processes run in the guest kernel, which
/// cannot see or share the host's processes or IPC objects, so such a pod is refused rather than run
/// with namespaces of its own that it did not ask for.
/// </summary>
public static class PodHostNamespaces
{
    /// <summary>Throws Unimplemented, naming the container, when the spec lacks a pid or an ipc namespace.
    /// A spec without linux.namespaces at all is left to the network check (it is host network too).</summary>
    public static void Refuse(Spec spec, string containerId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Linux?.Namespaces is not { } namespaces)
            return;
        if (!namespaces.Any(ns => ns.Type == "pid"))
        {
            throw StencilException.Unimplemented(
                $"container \"{containerId}\" asks for the host's PID namespace (its spec has no pid namespace): "
                + "host PID namespace is not supported by a VM runtime, a VM cannot share the host's PID namespace; "
                + "run the pod without hostPID or with another runtime class");
        }
        if (!namespaces.Any(ns => ns.Type == "ipc"))
        {
            throw StencilException.Unimplemented(
                $"container \"{containerId}\" asks for the host's IPC namespace (its spec has no ipc namespace): "
                + "host IPC namespace is not supported by a VM runtime, a VM cannot share the host's IPC namespace; "
                + "run the pod without hostIPC or with another runtime class");
        }
    }
}
