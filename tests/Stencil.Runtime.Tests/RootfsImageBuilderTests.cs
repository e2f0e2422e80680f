using Stencil.Runtime.Network;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>A container's rootfs as an ext4 image (shared_fs = "none"): its size, mkfs.ext4's arguments, and a real image.</summary>
[Trait("Category", "Unit")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RootfsImageBuilderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-rootfs-image-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0L, 1024, 1024L)]
    [InlineData(100L * 1024 * 1024, 1024, 1024L)]
    [InlineData(600L * 1024 * 1024, 1024, 1264L)] // twice the contents plus 64 MiB
    [InlineData(1L, 64, 65L)]                     // a partial MiB counts whole
    public void The_image_is_the_configured_size_or_twice_the_contents_plus_64_MiB(long used, int least, long expected)
    {
        Assert.Equal(expected, RootfsImageBuilder.SizeMiB(used, least));
    }

    [Fact]
    public void Mkfs_keeps_the_image_sparse_and_has_inodes_for_many_small_files()
    {
        Assert.Equal(
            ["-q", "-F", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1", "-N", "65536", "-d", "/s/rootfs", "/s/rootfs.img", "1024M"],
            RootfsImageBuilder.MkfsArguments("/s/rootfs", "/s/rootfs.img", 1024, entries: 400));
        Assert.Equal("204096", RootfsImageBuilder.MkfsArguments("/s/rootfs", "/s/rootfs.img", 1024, entries: 100_000)[5]);
    }

    [Fact]
    public void Measure_counts_whole_blocks_and_never_follows_a_link()
    {
        var root = Path.Combine(_dir, "rootfs");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        File.WriteAllText(Path.Combine(root, "etc", "a"), "x");                 // one block
        File.WriteAllBytes(Path.Combine(root, "big"), new byte[4097]);         // two
        File.CreateSymbolicLink(Path.Combine(root, "host-passwd"), "/etc/passwd"); // the host's file: not counted
        Directory.CreateSymbolicLink(Path.Combine(root, "usr"), "/usr");      // not walked

        var (bytes, entries) = RootfsImageBuilder.Measure(root);

        Assert.Equal(6, entries); // the root, etc, a, big and the two links
        Assert.Equal(4096L * (1 + 1 + 1 + 2), bytes);
    }

    [Fact]
    public async Task The_image_holds_the_folder_is_0600_and_nothing_is_left_when_mkfs_fails()
    {
        Stencil.TestSupport.Prerequisite.Executable("mkfs.ext4", "apt-get install e2fsprogs");
        var root = Path.Combine(_dir, "rootfs");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        File.WriteAllText(Path.Combine(root, "etc", "hostname"), "c1\n");
        var image = Path.Combine(_dir, "rootfs.img");

        var sizeMiB = await RootfsImageBuilder.MakeAsync(root, image, 128, runner: null, CancellationToken.None);

        Assert.Equal(128, sizeMiB);
        Assert.Equal(128L << 20, new FileInfo(image).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(image));
        var listing = await new ProcessCommandRunner().RunAsync("debugfs", ["-R", "cat /etc/hostname", image], CancellationToken.None);
        Assert.Equal("c1\n", listing.EnsureSuccess("debugfs"));

        File.Delete(image);
        var e = await Assert.ThrowsAsync<StencilException>(() => RootfsImageBuilder.MakeAsync(root, image, 64, new FailingMkfs(), CancellationToken.None));
        Assert.Equal($"rootfs image {image}: `mkfs.ext4 ...` exited 1: mkfs.ext4: Could not allocate block in ext2 filesystem", e.Message);
        Assert.False(File.Exists(image), "a failed image is left");
    }

    private sealed class FailingMkfs : ICommandRunner
    {
        public Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
            RunAsync(fileName, arguments, "", cancellationToken);

        public Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, string standardInput, CancellationToken cancellationToken) =>
            Task.FromResult(new CommandOutput("mkfs.ext4 ...", 1, "", "mkfs.ext4: Could not allocate block in ext2 filesystem\n"));
    }
}
