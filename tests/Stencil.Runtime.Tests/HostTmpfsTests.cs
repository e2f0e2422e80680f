using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class HostTmpfsTests
{
    private const string MountInfo = """
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        30 27 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1638400k,mode=755
        412 30 0:61 / /run/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
        500 27 0:70 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch rw,relatime - tmpfs tmpfs rw,size=4096k,nr_inodes=1000,mode=777
        501 27 0:71 / /srv/with\040space ro,relatime - tmpfs tmpfs rw
        502 27 0:72 / /srv/disk rw,relatime - ext4 /dev/vdb rw
        503 502 0:73 / /srv/disk rw,nosuid,relatime - tmpfs tmpfs rw,size=8k
        504 27 0:70 /logs/app /var/lib/kubelet/pods/u1/volume-subpaths/scratch/app/0 rw,relatime - tmpfs tmpfs rw,size=4096k,nr_inodes=1000,mode=777
        505 27 0:25 /stencil /var/lib/kubelet/pods/u1/volume-subpaths/run/app/0 rw,relatime - tmpfs tmpfs rw
        """;

    [Fact]
    public void The_sandbox_shm_gives_its_size_and_mount_flags()
    {
        Assert.Equal(new HostTmpfsMount(["size=65536k", "nosuid", "nodev", "noexec"], "/", null),
            HostTmpfs.Parse(MountInfo, "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm"), new MountComparer());
    }

    [Fact]
    public void An_emptyDir_keeps_size_inode_count_and_mode()
    {
        Assert.Equal(new HostTmpfsMount(["size=4096k", "nr_inodes=1000", "mode=777"], "/", null),
            HostTmpfs.Parse(MountInfo, "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch/"), new MountComparer());
    }

    [Fact]
    public void A_subPath_of_a_memory_emptyDir_names_the_folder_and_the_volume()
    {
        var mount = HostTmpfs.Parse(MountInfo, "/var/lib/kubelet/pods/u1/volume-subpaths/scratch/app/0");
        Assert.Equal(new HostTmpfsMount(["size=4096k", "nr_inodes=1000", "mode=777"], "/logs/app",
            "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch"), mount, new MountComparer());
        // A folder of a tmpfs that is no emptyDir (the host's /run) names none.
        Assert.Null(HostTmpfs.Parse(MountInfo, "/var/lib/kubelet/pods/u1/volume-subpaths/run/app/0")!.EmptyDirMountPoint);
    }

    [Fact]
    public void Escaped_mount_points_default_options_and_read_only_mounts()
    {
        Assert.Equal(["ro"], HostTmpfs.Parse(MountInfo, "/srv/with space")!.GuestOptions);
    }

    [Fact]
    public void The_topmost_mount_at_a_path_counts()
    {
        Assert.Equal(["size=8k", "nosuid"], HostTmpfs.Parse(MountInfo, "/srv/disk")!.GuestOptions);
    }

    [Theory]
    [InlineData("/")]                                   // ext4
    [InlineData("/run/containerd")]                     // inside a tmpfs, not its mount point
    [InlineData("/nowhere")]
    public void Anything_else_is_not_a_tmpfs_mount_point(string path)
    {
        Assert.Null(HostTmpfs.Parse(MountInfo, path));
    }

    [Theory]
    [InlineData("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch", "scratch")]
    [InlineData("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch/", "scratch")]
    [InlineData("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~configmap/cfg", null)]
    [InlineData("/kubernetes.io~empty-dir", null)]
    public void EmptyDir_volume_names(string path, string? name) => Assert.Equal(name, HostTmpfs.EmptyDirVolumeName(path));

    [Fact]
    public void This_hosts_proc_is_not_a_tmpfs() => Assert.Null(HostTmpfs.Find("/proc"));

    private sealed class MountComparer : IEqualityComparer<HostTmpfsMount?>
    {
        public bool Equals(HostTmpfsMount? x, HostTmpfsMount? y) =>
            x is not null && y is not null && x.GuestOptions.SequenceEqual(y.GuestOptions) && x.Root == y.Root && x.EmptyDirMountPoint == y.EmptyDirMountPoint;

        public int GetHashCode(HostTmpfsMount? obj) => obj?.Root.GetHashCode() ?? 0;
    }
}
