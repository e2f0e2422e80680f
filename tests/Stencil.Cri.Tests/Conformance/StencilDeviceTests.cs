using Grpc.Core;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The device conformance tests with the stencil handler: the same answers as runc, except
/// for a character device the VM cannot have.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilDeviceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : DeviceConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    /// <summary>
    /// Known difference from runc, by design: a host character device is a host driver the guest kernel
    /// does not have, so the shim refuses the container (containerd creates the task, and so asks the
    /// shim, at StartContainer) and says why.
    /// </summary>
    protected override void AssertHostOnlyCharDevice(RpcException? refused, Dictionary<string, string>? probe)
    {
        Assert.NotNull(refused);
        Assert.Null(probe);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("character device /dev/kvm (10:232) cannot be passed into a VM", refused.Status.Detail);
    }
}
