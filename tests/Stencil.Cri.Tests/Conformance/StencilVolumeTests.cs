using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The volume conformance tests with the stencil handler: the same answers as runc, except
/// where a memory-backed volume's data lives.</summary>
[Collection(StencilCriCollection.Name)]
public class StencilVolumeTests : VolumeConformanceTests
{
    public StencilVolumeTests(StencilCriFixture fixture, ITestOutputHelper output)
        : this(fixture, StencilCriFixture.Handler, output)
    {
    }

    protected StencilVolumeTests(StencilCriFixture fixture, string handler, ITestOutputHelper output)
        : base(fixture, handler, output)
    {
    }

    /// <summary>
    /// Known difference from runc, by design (Kata does the same): the pod's /dev/shm and a memory-backed
    /// emptyDir are tmpfs in the guest, not the host's tmpfs shared over 9p, so shared mappings work
    /// between the pod's processes and the pages are counted once, in the VM. The host's tmpfs stays
    /// empty; nothing on the host reads it (the kubelet measures a memory emptyDir by its size limit,
    /// which the guest tmpfs is given).
    /// </summary>
    protected override bool HostSeesMemoryBackedVolumes => false;
}

/// <summary>The same through containerd 2.x's sandbox API (no pause container): the agent gives the pod's
/// containers one guest /dev/shm instead of containerd binding the sandbox's.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilSandboxVolumeTests(StencilCriFixture fixture, ITestOutputHelper output)
    : StencilVolumeTests(fixture, StencilCriFixture.SandboxHandler, output);
