using Stencil.Runtime.Storage;
using static Stencil.Runtime.Storage.MountOptions;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class MountOptionsTests
{
    [Fact]
    public void Overlay_options_from_containerd_become_data()
    {
        var parsed = Parse(["index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l2:/l1"]);
        Assert.Equal(0ul, parsed.Flags);
        Assert.Equal("index=off,workdir=/w,upperdir=/u,lowerdir=/l2:/l1", parsed.Data);
    }

    [Fact]
    public void Flags_set_and_clear_in_order()
    {
        var parsed = Parse(["ro", "nosuid", "nodev", "rw", "noexec", "rbind"]);
        Assert.Equal(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_BIND | MS_REC, parsed.Flags);
        Assert.False(parsed.ReadOnly);
        Assert.True(parsed.IsBind);
        Assert.Equal("", parsed.Data);
    }

    [Fact]
    public void Propagation_is_kept_apart()
    {
        var parsed = Parse(["rbind", "rprivate", "ro"]);
        Assert.Equal(MS_PRIVATE | MS_REC, parsed.Propagation);
        Assert.Equal(MS_BIND | MS_REC | MS_RDONLY, parsed.Flags);
    }

    [Fact]
    public void Data_longer_than_a_page_is_refused_with_its_length()
    {
        var ex = Assert.Throws<StencilException>(() => Parse(["lowerdir=" + new string('a', 5000)]));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("mount options are 5009 bytes long; mount(2) takes at most 4095", ex.Message);
    }
}
