using Stencil.Oci.Model;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Network;

[Trait("Category", "Unit")]
public sealed class PodNetworkNamespaceTests
{
    private static Spec SpecWith(params Namespace[] namespaces) => new() { Linux = new Linux { Namespaces = [.. namespaces] } };

    [Fact]
    public void The_path_of_the_network_namespace_is_the_pod_network()
    {
        var spec = SpecWith(new Namespace { Type = "pid" }, new Namespace { Type = "network", Path = "/var/run/netns/cni-0a1b" });
        Assert.Equal("/var/run/netns/cni-0a1b", PodNetworkNamespace.FromSpec(spec, "pod1"));
    }

    [Fact]
    public void A_network_namespace_without_a_path_means_no_network_to_join()
    {
        Assert.Null(PodNetworkNamespace.FromSpec(SpecWith(new Namespace { Type = "network" }), "pod1"));
    }

    [Fact]
    public void No_network_namespace_is_host_network_which_a_VM_cannot_do()
    {
        var ex = Assert.Throws<StencilException>(() => PodNetworkNamespace.FromSpec(SpecWith(new Namespace { Type = "pid" }), "pod1"));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Contains("container \"pod1\"", ex.Message);
        Assert.Contains("host network is not supported by a VM runtime", ex.Message);
        Assert.Equal(ErrorKind.Unimplemented, Assert.Throws<StencilException>(() => PodNetworkNamespace.FromSpec(new Spec(), "pod2")).Kind);
    }

    [Fact]
    public void A_relative_path_is_refused()
    {
        var ex = Assert.Throws<StencilException>(() => PodNetworkNamespace.FromSpec(SpecWith(new Namespace { Type = "network", Path = "netns/x" }), "pod1"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("\"netns/x\"", ex.Message);
    }
}
