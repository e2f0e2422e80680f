using Grpc.Core;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The device conformance tests with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncDeviceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : DeviceConformanceTests(fixture, "runc", output)
{
    /// <summary>runc makes the node and allows it in the device cgroup: the container opens /dev/kvm
    /// (reading a KVM device fails with EINVAL, after the open succeeded).</summary>
    protected override void AssertHostOnlyCharDevice(RpcException? refused, Dictionary<string, string>? probe)
    {
        Assert.Null(refused);
        Assert.NotNull(probe);
        Assert.Equal("character special file a:e8", probe["dev_type"]);
        Assert.Contains("Invalid argument", probe["dev_open"]);
    }
}
