using Stencil.Oci.Model;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

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
}
