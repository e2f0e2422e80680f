using Stencil.Agent.Containers;
using Stencil.Agent.Guest;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class SmallParsersTests
{
    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-3\n", new[] { 0, 1, 2, 3 })]
    [InlineData("0,2-3,7", new[] { 0, 2, 3, 7 })]
    public void Cpu_lists(string text, int[] cpus) => Assert.Equal(cpus, CpuSet.Parse(text));

    [Fact]
    public void Meminfo_fields() =>
        Assert.Equal(503332UL * 1024, GuestInfo.KiloBytesField("MemTotal:         503332 kB\nMemFree:          1 kB\n", "MemTotal"));

    [Fact]
    public void Mountinfo_mount_points_are_unescaped()
    {
        var text = """
            22 1 0:21 / / rw,relatime - rootfs rootfs rw
            30 22 0:25 / /run/stencil/containers/c1/rootfs rw - 9p stencil rw
            31 22 0:26 / /run/with\040space rw - tmpfs tmpfs rw
            """;
        Assert.Equal(["/", "/run/stencil/containers/c1/rootfs", "/run/with space"], MountInfo.MountPoints(text));
    }
}
