using Stencil.Oci.Model;

namespace Stencil.Runtime.Network;

/// <summary>Which network a pod asked for, read from its sandbox container's OCI spec.</summary>
public static class PodNetworkNamespace
{
    /// <summary>
    /// The path of the pod's network namespace (linux.namespaces, type "network"), where CNI put the
    /// pod's interface. Null when the namespace is listed without a path: the pod gets a new, empty
    /// namespace, so there is nothing to join and the VM gets no NIC. A spec that does not list a
    /// network namespace at all shares the host's network (hostNetwork: true, ctr --net-host), which a
    /// VM cannot do: that is an Unimplemented error naming the container.
    /// </summary>
    public static string? FromSpec(Spec spec, string containerId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var network = spec.Linux?.Namespaces?.FirstOrDefault(ns => ns.Type == "network");
        if (network is null)
        {
            throw StencilException.Unimplemented(
                $"container \"{containerId}\" asks for the host's network (its spec has no network namespace): "
                + "host network is not supported by a VM runtime; run the pod without hostNetwork or with another runtime class");
        }
        if (string.IsNullOrEmpty(network.Path))
            return null;
        if (!Path.IsPathFullyQualified(network.Path))
            throw StencilException.InvalidArgument($"container \"{containerId}\": network namespace path \"{network.Path}\" is not absolute");
        return network.Path;
    }
}
