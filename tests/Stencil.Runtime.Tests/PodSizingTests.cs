using Stencil.Oci.Model;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class PodSizingTests
{
    private static Spec With(long? quota, ulong? period, long? memory) => new()
    {
        Linux = new Linux
        {
            Resources = new Resources
            {
                Cpu = quota is null ? null : new CpuResources { Quota = quota, Period = period },
                Memory = memory is null ? null : new MemoryResources { Limit = memory },
            },
        },
    };

    [Theory]
    [InlineData(null, null, null, 0, 0)]
    [InlineData(50_000L, 100_000UL, null, 1, 0)]        // half a CPU still needs a whole vCPU
    [InlineData(200_000L, 100_000UL, null, 2, 0)]
    [InlineData(250_000L, 100_000UL, null, 3, 0)]
    [InlineData(150_000L, null, null, 2, 0)]            // no period: the kernel's default, 100 ms
    [InlineData(-1L, 100_000UL, null, 0, 0)]            // -1: no quota
    [InlineData(null, null, 268_435_456L, 0, 256)]
    [InlineData(null, null, 100_000_000L, 0, 96)]       // 95.4 MiB rounds up
    [InlineData(null, null, -1L, 0, 0)]
    public void A_containers_share_comes_from_its_limits(long? quota, ulong? period, long? memory, int vcpus, int memoryMiB) =>
        Assert.Equal((vcpus, memoryMiB), PodSizing.ContainerShare(With(quota, period, memory)));

    [Fact]
    public void The_vm_is_its_base_plus_every_share() =>
        Assert.Equal((4, 256 + 128 + 512), PodSizing.Total(1, 256, [(1, 128), (0, 0), (2, 512)]));

    [Fact]
    public void Without_annotations_the_base_is_the_configured_one()
    {
        Assert.Equal((1, 256), PodSizing.Base(1, 256, null));
        Assert.Equal((1, 256), PodSizing.Base(1, 256, new Dictionary<string, string> { ["io.stencil.other"] = "x" }));
        Assert.False(PodSizing.HasBaseAnnotations(new Dictionary<string, string> { ["io.stencil.other"] = "x" }));
    }

    [Theory]
    [InlineData("2", null, 2, 256)]
    [InlineData(null, "1024", 1, 1024)]
    [InlineData("4", "512", 4, 512)]
    public void The_annotations_replace_the_base(string? vcpus, string? memory, int expectedVcpus, int expectedMemory)
    {
        var annotations = new Dictionary<string, string>();
        if (vcpus is not null)
            annotations[PodSizing.VcpusAnnotation] = vcpus;
        if (memory is not null)
            annotations[PodSizing.MemoryAnnotation] = memory;
        Assert.True(PodSizing.HasBaseAnnotations(annotations));
        Assert.Equal((expectedVcpus, expectedMemory), PodSizing.Base(1, 256, annotations));
    }

    [Theory]
    [InlineData("io.stencil.vcpus", "0")]
    [InlineData("io.stencil.vcpus", "-1")]
    [InlineData("io.stencil.vcpus", "1.5")]
    [InlineData("io.stencil.vcpus", " 2")]
    [InlineData("io.stencil.vcpus", "")]
    [InlineData("io.stencil.memory_mib", "512Mi")]
    [InlineData("io.stencil.memory_mib", "99999999999")]
    public void A_bad_annotation_is_InvalidArgument_naming_it_and_its_value(string name, string value)
    {
        var error = Assert.Throws<StencilException>(() => PodSizing.Base(1, 256, new Dictionary<string, string> { [name] = value }));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(name, error.Message);
        Assert.Contains($"\"{value}\"", error.Message);
    }
}
