namespace Stencil.Cri.Tests;

/// <summary>Reading the network namespace out of containerd's verbose sandbox info (a pure function).</summary>
[Trait("Category", "Unit")]
public sealed class CriPodTests
{
    [Fact]
    public void The_network_namespace_path_comes_from_the_runtime_spec()
    {
        const string info = """
            {"pid":4242,"processStatus":"running","netNamespaceClosed":false,"image":"registry.k8s.io/pause:3.6",
             "runtimeHandler":"runc","runtimeType":"io.containerd.runc.v2",
             "runtimeSpec":{"ociVersion":"1.0.2-dev","linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},
               {"type":"network","path":"/var/run/netns/cni-5f3c0d4e-0000-1111-2222-333344445555"}]}}}
            """;
        Assert.Equal("/var/run/netns/cni-5f3c0d4e-0000-1111-2222-333344445555", CriPod.NetworkNamespacePath(info));
    }

    [Fact]
    public void A_host_network_sandbox_has_no_network_namespace_path()
    {
        Assert.Null(CriPod.NetworkNamespacePath("""{"runtimeSpec":{"linux":{"namespaces":[{"type":"pid"},{"type":"ipc"}]}}}"""));
        Assert.Null(CriPod.NetworkNamespacePath("""{"pid":1}"""));
    }
}
