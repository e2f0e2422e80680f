using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>Mount propagation with stencil: None and HostToContainer as runc; Bidirectional refused
/// (a mount made in the guest's kernel cannot reach the host's).</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilMountPropagationTests(StencilCriFixture fixture, ITestOutputHelper output)
    : MountPropagationConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    protected override async Task AssertBidirectionalAsync(CriPod pod, ContainerConfig config, string hostDir)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => pod.RunContainerAsync(config));
        Output.WriteLine($"stencil Bidirectional: {refused.Status.StatusCode}: {refused.Status.Detail}");
        Assert.Contains("mount /vol asks for bidirectional mount propagation (rshared): mounts made inside a VM cannot propagate to the host", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(hostDir, "inner")));
    }
}
