using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class MountOptionsTests
{
    [Fact]
    public void Flags_and_data_are_split()
    {
        var (flags, data) = MountOptions.Parse(["ro", "nosuid", "nodev", "noexec", "errors=remount-ro", "discard"]);
        Assert.Equal(1UL | 2 | 4 | 8, flags);
        Assert.Equal("errors=remount-ro,discard", data);
    }

    [Fact]
    public void Later_option_undoes_an_earlier_one() => Assert.Equal(0UL, MountOptions.Parse(["ro", "rw"]).Flags);

    [Fact]
    public void Rbind_is_recursive_bind() => Assert.Equal(4096UL | 16384, MountOptions.Parse(["rbind"]).Flags);

    [Fact]
    public void Comma_inside_an_option_is_refused()
    {
        var ex = Assert.Throws<StencilException>(() => MountOptions.Parse(["ro,nosuid"]));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("ro,nosuid", ex.Message);
    }
}
