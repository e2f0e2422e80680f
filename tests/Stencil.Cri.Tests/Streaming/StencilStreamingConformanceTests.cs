using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(StencilCriCollection.Name)]
public sealed class StencilStreamingConformanceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : StreamingConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    /// <summary>
    /// Known difference from runc, asserted so that a change is noticed: containerd 1.6 forwards by
    /// dialing localhost:PORT inside the pod's network namespace on the host, but a stencil pod's
    /// listeners live in the guest, so nothing listens there and the dial is refused; the refusal comes
    /// back on the port's error channel and no data arrives.
    /// </summary>
    protected override void AssertPortForwardOutcome(string data, string error)
    {
        Assert.Equal("", data);
        Assert.Contains("failed to connect to localhost:8080 inside namespace", error);
        Assert.Contains("connection refused", error);
    }
}
