using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The security-context conformance probes with the stencil handler: the same answers as runc.
/// Plus what a VM cannot do by design: share the host's PID or IPC namespace (runc can).</summary>
[Collection(StencilCriCollection.Name)]
public class StencilSecurityContextTests : SecurityContextConformanceTests
{
    public StencilSecurityContextTests(StencilCriFixture fixture, ITestOutputHelper output)
        : this(fixture, StencilCriFixture.Handler, output)
    {
    }

    protected StencilSecurityContextTests(StencilCriFixture fixture, string handler, ITestOutputHelper output)
        : base(fixture, handler, output)
    {
    }

    private StencilCriFixture StencilFixture => (StencilCriFixture)Fixture;

    /// <summary>Privileged inside the VM: the guest's devices (its virtio-serial port, its memory), never
    /// the host's (the host's /dev/kvm, its disks).</summary>
    protected override void AssertPrivilegedDevices(IReadOnlyList<string> devices)
    {
        Assert.Contains(devices, d => d.StartsWith("/dev/vport", StringComparison.Ordinal));
        Assert.Contains("/dev/mem", devices);
        Assert.DoesNotContain("/dev/kvm", devices);
        foreach (var disk in Directory.GetFiles("/dev", "vd*"))
            Assert.DoesNotContain(disk, devices);
    }

    [Theory]
    [InlineData("pid", "host PID namespace is not supported by a VM runtime")]
    [InlineData("ipc", "host IPC namespace is not supported by a VM runtime")]
    public Task A_pod_sharing_the_host_PID_or_IPC_namespace_is_refused(string shared, string error) => Fixture.WithLogOnFailureAsync(Output, async () =>
    {
        var name = $"sc-host{shared}";
        var config = HostNamespaceSandbox(name, Fixture.LogDirectory(name), shared);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.RunPodSandboxAsync(config, Handler));
        Output.WriteLine(refused.Status.Detail);
        Assert.Contains(error, refused.Status.Detail);
        Assert.Empty(StencilFixture.QemuProcesses());
        Assert.Empty(StencilFixture.LeftoverPodState());
        // Nor a shim: containerd shuts down the one it started for the pod (with a pause container, the
        // pause container's shim; with the sandbox API, the sandbox's, whose CreateSandbox refused the pod).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (StencilFixture.StencilProcesses().Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Empty(StencilFixture.StencilProcesses());
        Assert.DoesNotContain(await Client.ListPodSandboxAsync(), p => p.Metadata.Name == name && p.State == PodSandboxState.SandboxReady);
    });

    /// <summary>A hostPID: true or hostIPC: true pod (that namespace mode NODE), otherwise the kubelet's defaults.</summary>
    internal static PodSandboxConfig HostNamespaceSandbox(string name, string logDirectory, string shared)
    {
        var config = CriConfig.Sandbox(name, logDirectory);
        var options = config.Linux.SecurityContext.NamespaceOptions;
        if (shared == "pid")
            options.Pid = NamespaceMode.Node;
        else
            options.Ipc = NamespaceMode.Node;
        return config;
    }
}

/// <summary>The same through containerd 2.x's sandbox API (no pause container): the agent sets the pod's
/// hostname, sysctls and DNS, and refuses the host's namespaces at RunPodSandbox.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilSandboxSecurityContextTests(StencilCriFixture fixture, ITestOutputHelper output)
    : StencilSecurityContextTests(fixture, StencilCriFixture.SandboxHandler, output);
