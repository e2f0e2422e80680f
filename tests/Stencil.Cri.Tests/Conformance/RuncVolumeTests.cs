using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The volume conformance tests with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncVolumeTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : VolumeConformanceTests(fixture, "runc", output)
{
    /// <summary>runc bind-mounts the host's tmpfs folders into the container as they are.</summary>
    protected override void AssertFileSystemTypes(string memoryEmptyDir, string devShm)
    {
        Assert.Equal("tmpfs", memoryEmptyDir);
        Assert.Equal("tmpfs", devShm);
    }
}
