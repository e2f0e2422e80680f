using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public sealed class HostDevicesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-test-hostdev-").FullName;

    private string Sys => Path.Combine(_root, "sys");

    private string Dev => Path.Combine(_root, "dev");

    private void Device(string numbers, string uevent, string? node)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Sys, "dev", "block", numbers)).FullName;
        File.WriteAllText(Path.Combine(dir, "uevent"), uevent);
        if (node is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Dev, node))!);
            File.WriteAllText(Path.Combine(Dev, node), "");
        }
    }

    [Fact]
    public void The_node_comes_from_DEVNAME_in_sysfs()
    {
        Device("7:3", "MAJOR=7\nMINOR=3\nDEVNAME=loop3\nDEVTYPE=disk\n", "loop3");
        Device("253:0", "MAJOR=253\nMINOR=0\nDEVNAME=dm-0\n", "dm-0");

        Assert.Equal(Path.Combine(Dev, "loop3"), HostDevices.FindBlockDevice(7, 3, Sys, Dev));
        Assert.Equal(Path.Combine(Dev, "dm-0"), HostDevices.FindBlockDevice(253, 0, Sys, Dev));
    }

    [Fact]
    public void Unknown_numbers_a_missing_node_or_a_name_leading_out_give_null()
    {
        Device("7:4", "MAJOR=7\nMINOR=4\nDEVNAME=loop4\n", node: null);
        Device("7:5", "MAJOR=7\nMINOR=5\nDEVNAME=../etc/x\n", node: null);
        Device("7:6", "MAJOR=7\nMINOR=6\n", node: null);

        Assert.Null(HostDevices.FindBlockDevice(7, 9, Sys, Dev));
        Assert.Null(HostDevices.FindBlockDevice(7, 4, Sys, Dev));
        Assert.Null(HostDevices.FindBlockDevice(7, 5, Sys, Dev));
        Assert.Null(HostDevices.FindBlockDevice(7, 6, Sys, Dev));
    }

    [Fact]
    public void The_real_sysfs_knows_the_hosts_own_disks_null_device_is_not_one()
    {
        // /dev/null is 1:3, a character device: no block device has those numbers.
        Assert.Null(HostDevices.FindBlockDevice(1, 3));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
