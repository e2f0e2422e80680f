using Stencil.Runtime;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Storage;
using Stencil.Shim.Delete;

namespace Stencil.Shim.Tests;

public sealed class CleanupTests
{
    [Fact]
    public void Mountinfo_mount_points_below_a_folder_deepest_first()
    {
        const string mountInfo = """
            22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            30 22 0:25 / /run rw shared:5 - tmpfs tmpfs rw
            41 30 0:40 / /run/stencil/pods/default/p/shared/c1/rootfs rw - overlay overlay rw,lowerdir=/l
            42 41 0:41 / /run/stencil/pods/default/p/shared/c1/rootfs/proc rw - proc proc rw
            43 30 0:42 / /run/stencil/pods/default/p/shared/c\0402/rootfs rw - overlay overlay rw
            44 30 0:43 / /run/stencil/pods/default/p2 rw - tmpfs tmpfs rw
            """;

        var points = MountInfo.MountPointsUnder(mountInfo, "/run/stencil/pods/default/p/");

        Assert.Equal([
            "/run/stencil/pods/default/p/shared/c1/rootfs/proc",
            "/run/stencil/pods/default/p/shared/c 2/rootfs",
            "/run/stencil/pods/default/p/shared/c1/rootfs",
        ], points);
    }

    [Fact]
    public void State_paths_follow_the_documented_layout()
    {
        var paths = new StatePaths("/run/stencil/");

        Assert.Equal("/run/stencil/pods/k8s.io/pod1", paths.PodDir("k8s.io", "pod1"));
        Assert.Equal("/run/stencil/pods/k8s.io/pod1/shared", paths.SharedDir("k8s.io", "pod1"));
        Assert.Equal("/run/stencil/pods/k8s.io/pod1/shared/c1/rootfs", paths.ContainerRootfs("k8s.io", "pod1", "c1"));
        Assert.Equal("/run/stencil/pods/k8s.io/pod1/containers/c1", paths.ContainerDir("k8s.io", "pod1", "c1"));
        Assert.Matches("^/run/stencil/vm/[0-9a-f]{16}$", paths.VmDir("k8s.io", new string('a', 64)));
        Assert.NotEqual(paths.VmDir("a", "pod1"), paths.VmDir("b", "pod1"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Ids_that_would_escape_their_folder_are_refused(string id)
    {
        var ex = Assert.Throws<StencilException>(() => new StatePaths("/run/stencil").ContainerDir("default", "pod", id));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"container id \"{id}\" cannot name a folder", ex.Message);
    }

    [Fact]
    public void Removes_one_containers_folders_and_leaves_its_neighbours()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var mounter = new FakeMounter();
        var c1Rootfs = paths.ContainerRootfs("ns", "pod", "c1");
        Directory.CreateDirectory(c1Rootfs);
        File.WriteAllText(Path.Combine(c1Rootfs, "f"), "x");
        Directory.CreateDirectory(paths.ContainerDir("ns", "pod", "c1"));
        Directory.CreateDirectory(paths.ContainerRootfs("ns", "pod", "c2"));
        mounter.Mounted.Add(c1Rootfs);

        var cleanup = new ContainerCleanup(mounter, mounter.PointsUnder);
        cleanup.RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

        Assert.Equal([c1Rootfs], mounter.Unmounted);
        Assert.False(Directory.Exists(paths.ContainerSharedDir("ns", "pod", "c1")));
        Assert.False(Directory.Exists(paths.ContainerDir("ns", "pod", "c1")));
        Assert.True(Directory.Exists(paths.ContainerRootfs("ns", "pod", "c2")));
        Assert.Empty(cleanup.Warnings);
    }

    [Fact]
    public void Never_deletes_through_a_mount_that_stays_mounted()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var rootfs = paths.ContainerRootfs("ns", "pod", "c1");
        Directory.CreateDirectory(rootfs);
        var imageFile = Path.Combine(rootfs, "etc-passwd");
        File.WriteAllText(imageFile, "root:x:0:0");
        var mounter = new FakeMounter { Busy = true };
        mounter.Mounted.Add(rootfs);

        var cleanup = new ContainerCleanup(mounter, mounter.PointsUnder);
        cleanup.RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

        Assert.True(File.Exists(imageFile));
        Assert.Contains($"{rootfs} is still mounted; left in place", cleanup.Warnings);
    }

    [Fact]
    public void Symlinks_are_removed_not_followed()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var outside = dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "x");
        var containerDir = paths.ContainerDir("ns", "pod", "c1");
        Directory.CreateDirectory(containerDir);
        Directory.CreateSymbolicLink(Path.Combine(containerDir, "link"), outside);
        var mounter = new FakeMounter();

        new ContainerCleanup(mounter, mounter.PointsUnder).RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

        Assert.False(Directory.Exists(containerDir));
        Assert.True(File.Exists(Path.Combine(outside, "keep")));
    }

    private sealed class FakeMounter : IMounter
    {
        public List<string> Mounted { get; } = [];

        public List<string> Unmounted { get; } = [];

        public bool Busy { get; init; }

        public IReadOnlyList<string> PointsUnder(string root) =>
            Mounted.Where(m => m == root || m.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal)).ToArray();

        public void Mount(MountSpec mount, string target) => Mounted.Add(target);

        public void Unmount(string target)
        {
            if (Busy)
                throw StencilException.FailedPrecondition($"unmount {target}: busy");
            Mounted.Remove(target);
            Unmounted.Add(target);
        }

        public bool IsMountPoint(string path) => Mounted.Contains(path);
    }
}
