using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>Mount propagation with runc: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncMountPropagationTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : MountPropagationConformanceTests(fixture, "runc", output)
{
    /// <summary>A tmpfs the container mounts below a Bidirectional volume shows on the host.</summary>
    protected override async Task AssertBidirectionalAsync(CriPod pod, ContainerConfig config, string hostDir)
    {
        await pod.RunContainerAsync(config);
        var text = await WaitForFileAsync(Path.Combine(hostDir, "inner", "f"));
        Output.WriteLine($"runc Bidirectional: host reads {text?.Trim() ?? "(nothing)"}");
        Assert.Equal("from-container\n", text);
    }
}
