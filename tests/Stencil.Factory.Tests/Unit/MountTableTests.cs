using Stencil.Factory.Internal;

namespace Stencil.Factory.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class MountTableTests
{
    private const string Mounts =
        "proc /proc proc rw,nosuid 0 0\n" +
        "tmpfs /run tmpfs rw,nosuid,nodev,size=100k 0 0\n" +
        "/dev/sda1 /run/stencil/template ext4 rw 0 0\n" +
        "tmpfs /run/stencil/template tmpfs rw,nosuid,nodev,mode=700 0 0\n" +
        "tmpfs /tmp/with\\040space tmpfs rw 0 0\n";

    [Fact]
    public void The_last_mount_at_a_point_is_the_one_on_top()
    {
        var entries = MountTable.Parse(Mounts);
        Assert.Equal(5, entries.Count);
        var top = MountTable.At(entries, "/run/stencil/template/");
        Assert.NotNull(top);
        Assert.Equal("tmpfs", top.FileSystemType);
        Assert.Equal("rw,nosuid,nodev,mode=700", top.Options);
        Assert.Null(MountTable.At(entries, "/run/stencil"));
        Assert.Equal("proc", MountTable.At(entries, "/proc")!.Source);
    }

    [Fact]
    public void Octal_escapes_are_decoded()
    {
        Assert.NotNull(MountTable.At(MountTable.Parse(Mounts), "/tmp/with space"));
        Assert.Equal("a\tb\\c", MountTable.Unescape("a\\011b\\134c"));
        Assert.Equal("a\\9", MountTable.Unescape("a\\9"));
    }
}
