using Stencil.Runtime;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Storage;
using Stencil.Shim.Delete;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class CleanupTests
{
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
    public void Removes_one_containers_folders_unmounting_its_rootfs_and_leaves_its_neighbours()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var image = dir.Combine("image");
        Directory.CreateDirectory(image);
        File.WriteAllText(Path.Combine(image, "etc-passwd"), "root:x:0:0");
        var c1Rootfs = paths.ContainerRootfs("ns", "pod", "c1");
        Directory.CreateDirectory(c1Rootfs);
        Directory.CreateDirectory(paths.ContainerDir("ns", "pod", "c1"));
        Directory.CreateDirectory(paths.ContainerRootfs("ns", "pod", "c2"));
        var mounter = new LinuxMounter();
        mounter.Mount(new MountSpec("bind", image, "", ["rbind"]), c1Rootfs);

        var cleanup = new ContainerCleanup(mounter);
        cleanup.RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

        Assert.Empty(cleanup.Warnings);
        Assert.False(mounter.IsMountPoint(c1Rootfs));
        Assert.False(Directory.Exists(paths.ContainerSharedDir("ns", "pod", "c1")));
        Assert.False(Directory.Exists(paths.ContainerDir("ns", "pod", "c1")));
        Assert.True(Directory.Exists(paths.ContainerRootfs("ns", "pod", "c2")));
        Assert.True(File.Exists(Path.Combine(image, "etc-passwd")));
    }

    [Fact]
    public void Never_deletes_through_a_mount_that_stays_mounted()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var image = dir.Combine("image");
        Directory.CreateDirectory(image);
        var imageFile = Path.Combine(image, "etc-passwd");
        File.WriteAllText(imageFile, "root:x:0:0");
        var rootfs = paths.ContainerRootfs("ns", "pod", "c1");
        Directory.CreateDirectory(rootfs);
        var real = new LinuxMounter();
        real.Mount(new MountSpec("bind", image, "", ["rbind"]), rootfs);
        try
        {
            var cleanup = new ContainerCleanup(new RefusingMounter(real));
            cleanup.RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

            Assert.True(File.Exists(imageFile));
            Assert.True(File.Exists(Path.Combine(rootfs, "etc-passwd")));
            Assert.Contains(cleanup.Warnings, w => w.Contains("refused by the test", StringComparison.Ordinal));
        }
        finally
        {
            real.Unmount(rootfs);
        }
    }

    [Fact]
    public void Links_a_guest_wrote_into_the_share_are_removed_and_never_followed_and_moved_mounts_still_unmounted()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var image = Directory.CreateDirectory(dir.Combine("image")).FullName;
        var volume = Directory.CreateDirectory(dir.Combine("volume")).FullName;
        var host = Directory.CreateDirectory(dir.Combine("host")).FullName;
        File.WriteAllText(Path.Combine(image, "etc-passwd"), "root:x:0:0");
        File.WriteAllText(Path.Combine(volume, "data"), "user data");
        File.WriteAllText(Path.Combine(host, "secret"), "host secret");
        var c1 = paths.ContainerSharedDir("ns", "pod", "c1");
        Directory.CreateDirectory(Path.Combine(c1, "rootfs"));
        Directory.CreateDirectory(Path.Combine(c1, "mounts", "0"));
        var mounter = new LinuxMounter();
        mounter.Mount(new MountSpec("bind", image, "", ["rbind"]), Path.Combine(c1, "rootfs"));
        mounter.Mount(new MountSpec("bind", volume, "", ["rbind"]), Path.Combine(c1, "mounts", "0"));
        // What a hostile guest can do over 9p: links out (absolute, relative, to /), and a folder holding a
        // mount point moved away with a link to a host folder in its place.
        Directory.CreateSymbolicLink(Path.Combine(c1, "root"), "/");
        Directory.CreateSymbolicLink(Path.Combine(c1, "host"), host);
        Directory.CreateDirectory(Path.Combine(c1, "deep"));
        File.CreateSymbolicLink(Path.Combine(c1, "deep", "up"), "../../../../../../../host/secret");
        Directory.Move(Path.Combine(c1, "mounts"), Path.Combine(c1, "moved"));
        Directory.CreateSymbolicLink(Path.Combine(c1, "mounts"), host);

        var cleanup = new ContainerCleanup(mounter);
        cleanup.RemoveContainer(paths, "ns", "pod", "c1", dir.Combine("bundle"));

        Assert.Empty(cleanup.Warnings);
        Assert.False(Directory.Exists(c1));
        Assert.Empty(SafeDirectory.MountsBelow(dir.Path));
        Assert.Equal("root:x:0:0", File.ReadAllText(Path.Combine(image, "etc-passwd")));
        Assert.Equal("user data", File.ReadAllText(Path.Combine(volume, "data")));
        Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(host).Select(Path.GetFileName));
    }

    [Fact]
    public void A_missing_state_folder_is_nothing_to_do()
    {
        using var dir = new TempDir();
        var cleanup = new ContainerCleanup(new LinuxMounter());

        cleanup.RemoveContainer(new StatePaths(dir.Combine("state")), "ns", "pod", "c1", dir.Combine("bundle"));
        cleanup.RemovePod(new StatePaths(dir.Combine("state")), "ns", "pod", dir.Combine("bundle"));

        Assert.Empty(cleanup.Warnings);
    }

    [Fact]
    public void A_QEMU_that_outlived_its_shim_is_killed_before_the_pod_state_goes()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var vmDir = Directory.CreateDirectory(paths.VmDir("ns", "pod")).FullName;
        var pidFile = System.IO.Path.Combine(vmDir, "qemu.pid");
        // A stand-in for QEMU: its command line names the pidfile, as QEMU's -pidfile does.
        using var fake = System.Diagnostics.Process.Start("sh", ["-c", "while :; do sleep 0.1; done", "qemu", "-pidfile", pidFile])!;
        File.WriteAllText(pidFile, $"{fake.Id}\n");
        var cleanup = new ContainerCleanup(new LinuxMounter());

        cleanup.RemovePod(paths, "ns", "pod", "/nonexistent-bundle");

        Assert.True(fake.WaitForExit(5000), "the stand-in QEMU still runs");
        Assert.Equal($"pod pod: QEMU (pid {fake.Id}, {pidFile}) outlived its shim daemon: killed", Assert.Single(cleanup.Warnings));
        Assert.False(Directory.Exists(vmDir));
    }

    [Fact]
    public void A_pid_that_is_not_this_pods_QEMU_is_left_alone()
    {
        using var dir = new TempDir();
        var paths = new StatePaths(dir.Combine("state"));
        var vmDir = Directory.CreateDirectory(paths.VmDir("ns", "pod")).FullName;
        // The pid was reused by another process (here: a sleep that does not name the pidfile).
        using var other = System.Diagnostics.Process.Start("sleep", ["30"])!;
        try
        {
            File.WriteAllText(System.IO.Path.Combine(vmDir, "qemu.pid"), $"{other.Id}\n");
            var cleanup = new ContainerCleanup(new LinuxMounter());

            cleanup.RemovePod(paths, "ns", "pod", "/nonexistent-bundle");

            Assert.False(other.HasExited);
            Assert.Empty(cleanup.Warnings);
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    /// <summary>A mounter whose unmount fails (a mount busy beyond a lazy unmount, say).</summary>
    private sealed class RefusingMounter(IMounter real) : IMounter
    {
        public void Mount(MountSpec mount, MountTarget target) => real.Mount(mount, target);

        public void Unmount(MountTarget target) => throw StencilException.FailedPrecondition($"unmount {target}: refused by the test");

        public bool IsMountPoint(string path) => real.IsMountPoint(path);
    }
}
