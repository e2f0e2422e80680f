using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The security-context conformance probes with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncSecurityContextTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : SecurityContextConformanceTests(fixture, "runc", output)
{
    /// <summary>runc (without privileged_without_host_devices) gives a privileged container the host's devices.</summary>
    protected override void AssertPrivilegedDevices(IReadOnlyList<string> devices)
    {
        foreach (var hostOnly in new[] { "/dev/kvm", "/dev/loop-control" }.Where(File.Exists))
            Assert.Contains(hostOnly, devices);
    }

    /// <summary>The counterpart of stencil's refusal: runc runs such a pod (so the refusal is stencil's own).</summary>
    [Theory]
    [InlineData("pid")]
    [InlineData("ipc")]
    public Task A_pod_sharing_the_host_PID_or_IPC_namespace_runs(string shared) => Fixture.WithLogOnFailureAsync(Output, async () =>
    {
        var name = $"sc-runc-host{shared}";
        await using var pod = await CriPod.RunAsync(Client, StencilSecurityContextTests.HostNamespaceSandbox(name, Fixture.LogDirectory(name), shared), Handler);
        Assert.Equal(Stencil.Cri.V1.PodSandboxState.SandboxReady, (await pod.StatusAsync()).State);
    });
}
