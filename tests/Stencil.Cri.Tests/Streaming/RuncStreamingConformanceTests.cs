using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(CriCollection.Name)]
public sealed class RuncStreamingConformanceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : StreamingConformanceTests(fixture, "runc", output)
{
    /// <summary>containerd dials localhost:8080 in the pod's network namespace, where runc's httpd listens.</summary>
    protected override void AssertPortForwardOutcome(string data, string error)
    {
        Assert.StartsWith("HTTP/1.", data);
        Assert.EndsWith("\r\n\r\nhello\n", data);
        Assert.Equal("", error);
    }
}
