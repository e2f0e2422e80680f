using Stencil.Oci.Model;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public sealed class PodHostNamespacesTests
{
    private static Spec SpecWith(params string[] types) =>
        new() { Linux = new Linux { Namespaces = [.. types.Select(t => new Namespace { Type = t })] } };

    [Fact]
    public void A_pod_with_its_own_pid_and_ipc_namespaces_is_accepted()
    {
        PodHostNamespaces.Refuse(SpecWith("pid", "ipc", "uts", "mount", "network"), "pod1");
        PodHostNamespaces.Refuse(new Spec(), "pod2"); // no linux.namespaces at all: the network check refuses it
    }

    [Fact]
    public void Host_PID_is_refused_as_unimplemented()
    {
        var ex = Assert.Throws<StencilException>(() => PodHostNamespaces.Refuse(SpecWith("ipc", "uts", "mount", "network"), "pod1"));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Contains("container \"pod1\"", ex.Message);
        Assert.Contains("host PID namespace is not supported by a VM runtime", ex.Message);
    }

    [Fact]
    public void Host_IPC_is_refused_as_unimplemented()
    {
        var ex = Assert.Throws<StencilException>(() => PodHostNamespaces.Refuse(SpecWith("pid", "uts", "mount", "network"), "pod1"));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Contains("host IPC namespace is not supported by a VM runtime", ex.Message);
    }
}
