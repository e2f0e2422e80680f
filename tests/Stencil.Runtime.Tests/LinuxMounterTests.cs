using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests;

/// <summary>Against the real mount table (the tests run as root, as the shim does).</summary>
[Trait("Category", "Unit")]
public sealed class LinuxMounterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-mount-").FullName;
    private readonly LinuxMounter _mounter = new();

    public void Dispose()
    {
        foreach (var sub in new[] { "target", "overlay" })
            _mounter.Unmount(Path.Combine(_dir, sub));
        Directory.Delete(_dir, recursive: true);
    }

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;

    [Fact]
    public void Read_only_bind_mount_is_read_only_and_unmounts()
    {
        var source = Dir("source");
        File.WriteAllText(Path.Combine(source, "f"), "x");
        var target = Dir("target");
        _mounter.Mount(new MountSpec("bind", source, "", ["rbind", "ro"]), target);
        Assert.True(_mounter.IsMountPoint(target));
        Assert.Equal("x", File.ReadAllText(Path.Combine(target, "f")));
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "g"), "y"));
        _mounter.Unmount(target);
        Assert.False(_mounter.IsMountPoint(target));
        _mounter.Unmount(target); // not mounted any more: not an error
    }

    [Fact]
    public void Overlay_as_containerd_describes_it()
    {
        var lower = Dir("lower");
        File.WriteAllText(Path.Combine(lower, "from-lower"), "l");
        var upper = Dir("upper");
        var work = Dir("work");
        var target = Dir("overlay");
        _mounter.Mount(new MountSpec("overlay", "overlay", "", [$"workdir={work}", $"upperdir={upper}", $"lowerdir={lower}"]), target);
        File.WriteAllText(Path.Combine(target, "new"), "n");
        Assert.True(File.Exists(Path.Combine(upper, "new")));
        Assert.Equal("l", File.ReadAllText(Path.Combine(target, "from-lower")));
        _mounter.Unmount(target);
    }

    [Fact]
    public void A_missing_source_names_source_and_target()
    {
        var target = Dir("target");
        var ex = Assert.Throws<StencilException>(() => _mounter.Mount(new MountSpec("bind", "/nonexistent-stencil", "", ["rbind"]), target));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.StartsWith($"mount bind /nonexistent-stencil on {target}: ", ex.Message);
    }
}
