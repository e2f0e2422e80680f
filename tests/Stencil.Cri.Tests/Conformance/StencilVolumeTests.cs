using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The volume conformance tests with the stencil handler: the same answers as runc, except
/// where a memory-backed volume's data lives.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilVolumeTests(StencilCriFixture fixture, ITestOutputHelper output)
    : VolumeConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    /// <summary>
    /// Known difference from runc, by design (Kata does the same): the pod's /dev/shm and a memory-backed
    /// emptyDir are tmpfs in the guest, not the host's tmpfs shared over 9p, so shared mappings work
    /// between the pod's processes and the pages are counted once, in the VM. The host's tmpfs stays
    /// empty; nothing on the host reads it (the kubelet measures a memory emptyDir by its size limit,
    /// which the guest tmpfs is given).
    /// </summary>
    protected override bool HostSeesMemoryBackedVolumes => false;
}
