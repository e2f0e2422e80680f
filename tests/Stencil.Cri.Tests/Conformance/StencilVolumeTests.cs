using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The volume conformance tests with the stencil handler: the same answers as runc.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilVolumeTests(StencilCriFixture fixture, ITestOutputHelper output)
    : VolumeConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    /// <summary>
    /// Known difference from runc: every host bind mount reaches the guest through the pod's shared folder
    /// (virtio-9p), so a memory-backed emptyDir and the sandbox's /dev/shm, both tmpfs on the host, are 9p
    /// in the container. What is written is shared all the same (the test checks that in both runtimes).
    /// </summary>
    protected override void AssertFileSystemTypes(string memoryEmptyDir, string devShm)
    {
        Assert.Equal("9p", memoryEmptyDir);
        Assert.Equal("9p", devShm);
    }
}
