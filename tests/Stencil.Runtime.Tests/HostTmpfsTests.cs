using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests;

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
        """;

    [Fact]
    public void The_sandbox_shm_gives_its_size_and_mount_flags()
    {
        Assert.Equal(["size=65536k", "nosuid", "nodev", "noexec"],
            HostTmpfs.Parse(MountInfo, "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm"));
    }

    [Fact]
    public void An_emptyDir_keeps_size_inode_count_and_mode()
    {
        Assert.Equal(["size=4096k", "nr_inodes=1000", "mode=777"],
            HostTmpfs.Parse(MountInfo, "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch/"));
    }

    [Fact]
    public void Escaped_mount_points_default_options_and_read_only_mounts()
    {
        Assert.Equal(["ro"], HostTmpfs.Parse(MountInfo, "/srv/with space"));
    }

    [Fact]
    public void The_topmost_mount_at_a_path_counts()
    {
        Assert.Equal(["size=8k", "nosuid"], HostTmpfs.Parse(MountInfo, "/srv/disk"));
    }

    [Theory]
    [InlineData("/")]                                   // ext4
    [InlineData("/run/containerd")]                     // inside a tmpfs, not its mount point
    [InlineData("/nowhere")]
    public void Anything_else_is_not_a_tmpfs_mount_point(string path)
    {
        Assert.Null(HostTmpfs.Parse(MountInfo, path));
    }

    [Fact]
    public void This_hosts_proc_is_not_a_tmpfs() => Assert.Null(HostTmpfs.GuestOptions("/proc"));
}
