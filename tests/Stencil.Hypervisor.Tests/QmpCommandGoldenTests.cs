using System.Text;
using System.Text.Json;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

/// <summary>
/// Every QMP command Stencil sends, byte for byte as QEMU receives it (the id is the client's counter;
/// 7 here). A change to any of these lines changes what QEMU is asked to do.
/// </summary>
[Trait("Category", "Unit")]
public sealed class QmpCommandGoldenTests
{
    private static string Wire(QmpCommand command) => Encoding.UTF8.GetString(command.Encode(7));

    public static TheoryData<string, string> ArgumentlessCommands() => new()
    {
        { nameof(QmpCommands.Capabilities), "{\"execute\":\"qmp_capabilities\",\"id\":7}\n" },
        { nameof(QmpCommands.Stop), "{\"execute\":\"stop\",\"id\":7}\n" },
        { nameof(QmpCommands.Cont), "{\"execute\":\"cont\",\"id\":7}\n" },
        { nameof(QmpCommands.Quit), "{\"execute\":\"quit\",\"id\":7}\n" },
        { nameof(QmpCommands.QueryStatus), "{\"execute\":\"query-status\",\"id\":7}\n" },
        { nameof(QmpCommands.QueryCpusFast), "{\"execute\":\"query-cpus-fast\",\"id\":7}\n" },
        { nameof(QmpCommands.QueryHotpluggableCpus), "{\"execute\":\"query-hotpluggable-cpus\",\"id\":7}\n" },
        { nameof(QmpCommands.QueryMigrate), "{\"execute\":\"query-migrate\",\"id\":7}\n" },
    };

    [Theory]
    [MemberData(nameof(ArgumentlessCommands))]
    public void A_command_without_arguments_is_its_name_and_id(string builder, string expected)
    {
        var command = builder switch
        {
            nameof(QmpCommands.Capabilities) => QmpCommands.Capabilities(),
            nameof(QmpCommands.Stop) => QmpCommands.Stop(),
            nameof(QmpCommands.Cont) => QmpCommands.Cont(),
            nameof(QmpCommands.Quit) => QmpCommands.Quit(),
            nameof(QmpCommands.QueryStatus) => QmpCommands.QueryStatus(),
            nameof(QmpCommands.QueryCpusFast) => QmpCommands.QueryCpusFast(),
            nameof(QmpCommands.QueryHotpluggableCpus) => QmpCommands.QueryHotpluggableCpus(),
            nameof(QmpCommands.QueryMigrate) => QmpCommands.QueryMigrate(),
            _ => throw new ArgumentOutOfRangeException(nameof(builder), builder, null),
        };
        Assert.Equal(expected, Wire(command));
    }

    [Fact]
    public void Getfd_and_closefd_name_the_fd()
    {
        Assert.Equal("{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"stencil-migration\"},\"id\":7}\n", Wire(QmpCommands.GetFd("stencil-migration")));
        Assert.Equal("{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"net3-fd\"},\"id\":7}\n", Wire(QmpCommands.CloseFd("net3-fd")));
    }

    [Fact]
    public void Migration_sets_x_ignore_shared_and_migrates_over_the_fd()
    {
        Assert.Equal(
            "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]},\"id\":7}\n",
            Wire(QmpCommands.MigrateSetCapability("x-ignore-shared", true)));
        Assert.Equal("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:stencil-migration\"},\"id\":7}\n", Wire(QmpCommands.Migrate("fd:stencil-migration")));
        Assert.Equal("{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:stencil-migration\"},\"id\":7}\n",
            Wire(QmpCommands.MigrateIncoming("fd:stencil-migration")));
    }

    [Fact]
    public void A_serial_port_is_a_unix_server_chardev_and_a_virtserialport()
    {
        Assert.Equal(
            "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"port1-chr\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"/run/stencil/pod/stdio.sock\"}},\"server\":true,\"wait\":false}}},\"id\":7}\n",
            Wire(QmpCommands.ChardevAddUnixServer("port1-chr", "/run/stencil/pod/stdio.sock")));
        Assert.Equal(
            "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtserialport\",\"id\":\"port1\",\"bus\":\"vserial0.0\",\"chardev\":\"port1-chr\",\"name\":\"io.stencil.stdio\"},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddSerialPort("port1", "vserial0.0", "port1-chr", "io.stencil.stdio")));
        Assert.Equal("{\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"port1-chr\"},\"id\":7}\n", Wire(QmpCommands.ChardevRemove("port1-chr")));
    }

    [Fact]
    public void A_disk_is_a_raw_blockdev_over_a_file_or_host_device_and_a_virtio_blk()
    {
        Assert.Equal(
            "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"disk2-node\",\"read-only\":false,\"file\":{\"driver\":\"file\",\"filename\":\"/var/lib/images/a.img\",\"read-only\":false}},\"id\":7}\n",
            Wire(QmpCommands.BlockdevAddRaw("disk2-node", "/var/lib/images/a.img", readOnly: false, hostDevice: false)));
        Assert.Equal(
            "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"disk2-node\",\"read-only\":true,\"file\":{\"driver\":\"host_device\",\"filename\":\"/dev/loop3\",\"read-only\":true}},\"id\":7}\n",
            Wire(QmpCommands.BlockdevAddRaw("disk2-node", "/dev/loop3", readOnly: true, hostDevice: true)));
        Assert.Equal(
            "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-blk-pci\",\"id\":\"disk2\",\"drive\":\"disk2-node\",\"bus\":\"rp0\",\"serial\":\"stencil-d1\"},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddVirtioBlk("disk2", "disk2-node", "rp0", "stencil-d1")));
        Assert.Equal(
            "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-blk-pci\",\"id\":\"disk2\",\"drive\":\"disk2-node\",\"bus\":\"rp0\"},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddVirtioBlk("disk2", "disk2-node", "rp0", serial: null)));
        Assert.Equal("{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"disk2-node\"},\"id\":7}\n", Wire(QmpCommands.BlockdevDel("disk2-node")));
    }

    [Fact]
    public void A_nic_is_a_tap_or_user_netdev_and_a_virtio_net()
    {
        Assert.Equal("{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"tap\",\"id\":\"net3-backend\",\"fd\":\"net3-fd\"},\"id\":7}\n",
            Wire(QmpCommands.NetdevAddTap("net3-backend", "net3-fd")));
        Assert.Equal("{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"user\",\"id\":\"net3-backend\"},\"id\":7}\n",
            Wire(QmpCommands.NetdevAddUser("net3-backend")));
        Assert.Equal(
            "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"net3\",\"netdev\":\"net3-backend\",\"mac\":\"52:54:00:12:34:56\",\"bus\":\"rp1\"},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddVirtioNet("net3", "net3-backend", "52:54:00:12:34:56", "rp1")));
        Assert.Equal("{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net3-backend\"},\"id\":7}\n", Wire(QmpCommands.NetdevDel("net3-backend")));
    }

    [Fact]
    public void A_vcpu_is_added_with_the_slot_properties_qemu_listed_in_its_order()
    {
        using var slot = JsonDocument.Parse("""{"core-id": 0, "thread-id": 0, "socket-id": 1}""");
        Assert.Equal(
            "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu64-x86_64-cpu\",\"id\":\"cpu4\",\"core-id\":0,\"thread-id\":0,\"socket-id\":1},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddCpu("qemu64-x86_64-cpu", "cpu4", slot.RootElement)));
    }

    [Fact]
    public void Memory_is_a_ram_backend_object_and_a_pc_dimm()
    {
        Assert.Equal(
            "{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-ram\",\"id\":\"dimm5-mem\",\"size\":268435456},\"id\":7}\n",
            Wire(QmpCommands.ObjectAddMemoryBackendRam("dimm5-mem", 256L * 1024 * 1024)));
        Assert.Equal("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pc-dimm\",\"id\":\"dimm5\",\"memdev\":\"dimm5-mem\"},\"id\":7}\n",
            Wire(QmpCommands.DeviceAddPcDimm("dimm5", "dimm5-mem")));
        Assert.Equal("{\"execute\":\"object-del\",\"arguments\":{\"id\":\"dimm5-mem\"},\"id\":7}\n", Wire(QmpCommands.ObjectDel("dimm5-mem")));
    }

    [Fact]
    public void Device_del_names_the_device()
    {
        Assert.Equal("{\"execute\":\"device_del\",\"arguments\":{\"id\":\"disk2\"},\"id\":7}\n", Wire(QmpCommands.DeviceDel("disk2")));
    }

    [Fact]
    public void Strings_are_escaped_the_way_utf8jsonwriter_does_by_default()
    {
        // Paths come from users (disk images, sockets): quotes and '+' must not break the line.
        Assert.Equal("{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"a\\u0022b\\u002Bc\"},\"id\":7}\n", Wire(QmpCommands.BlockdevDel("a\"b+c")));
    }
}
