using Grpc.Core;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The device conformance tests with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncDeviceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : DeviceConformanceTests(fixture, "runc", output)
{
    /// <summary>runc makes the node and allows it in the device cgroup: the container opens the tun
    /// device (reading an unattached tun fails with EBADFD, after the open succeeded).</summary>
    protected override void AssertHostOnlyCharDevice(RpcException? refused, Dictionary<string, string>? probe)
    {
        Assert.Null(refused);
        Assert.NotNull(probe);
        Assert.Equal("character special file a:c8", probe["tun_type"]);
        Assert.Contains("File descriptor in bad state", probe["tun_open"]);
    }
}
