using System.Text.Json;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Every QMP command Stencil sends, one builder each: pure, argument order and spelling as QEMU
/// receives them (tested byte for byte in QmpCommandGoldenTests). Ids, validation of user input and
/// the choice of which command to send live with the caller.
/// </summary>
internal static class QmpCommands
{
    // ---- session and run state -----------------------------------------------------------------

    /// <summary>Leaves capabilities negotiation mode; the first command after the greeting.</summary>
    public static QmpCommand Capabilities() => new("qmp_capabilities");

    public static QmpCommand Stop() => new("stop");

    public static QmpCommand Cont() => new("cont");

    public static QmpCommand Quit() => new("quit");

    public static QmpCommand QueryStatus() => new("query-status");

    public static QmpCommand QueryCpusFast() => new("query-cpus-fast");

    public static QmpCommand QueryHotpluggableCpus() => new("query-hotpluggable-cpus");

    // ---- file descriptors ----------------------------------------------------------------------

    /// <summary>Names the fd that travels with this command as SCM_RIGHTS.</summary>
    public static QmpCommand GetFd(string fdName) => new("getfd", w => w.WriteString("fdname", fdName));

    public static QmpCommand CloseFd(string fdName) => new("closefd", w => w.WriteString("fdname", fdName));

    // ---- migration (save and restore) ----------------------------------------------------------

    /// <summary>migrate-set-capabilities with one capability.</summary>
    public static QmpCommand MigrateSetCapability(string capability, bool state) =>
        new("migrate-set-capabilities", w =>
        {
            w.WriteStartArray("capabilities");
            w.WriteStartObject();
            w.WriteString("capability", capability);
            w.WriteBoolean("state", state);
            w.WriteEndObject();
            w.WriteEndArray();
        });

    public static QmpCommand Migrate(string uri) => new("migrate", w => w.WriteString("uri", uri));

    public static QmpCommand MigrateIncoming(string uri) => new("migrate-incoming", w => w.WriteString("uri", uri));

    public static QmpCommand QueryMigrate() => new("query-migrate");

    /// <summary>Every device's state, no RAM, into a file QEMU opens itself; the VM stays stopped (live=false).</summary>
    public static QmpCommand XenSaveDevicesState(string path) => new("xen-save-devices-state", w =>
    {
        w.WriteString("filename", path);
        w.WriteBoolean("live", false);
    });

    // ---- devices -------------------------------------------------------------------------------

    public static QmpCommand DeviceDel(string id) => new("device_del", w => w.WriteString("id", id));

    /// <summary>A virtio-serial port on <paramref name="bus"/>, named <paramref name="portName"/> in the guest.</summary>
    public static QmpCommand DeviceAddSerialPort(string id, string bus, string chardev, string portName) =>
        new("device_add", w =>
        {
            w.WriteString("driver", "virtserialport");
            w.WriteString("id", id);
            w.WriteString("bus", bus);
            w.WriteString("chardev", chardev);
            w.WriteString("name", portName);
        });

    public static QmpCommand DeviceAddVirtioBlk(string id, string drive, string bus, string? serial) =>
        new("device_add", w =>
        {
            w.WriteString("driver", "virtio-blk-pci");
            w.WriteString("id", id);
            w.WriteString("drive", drive);
            w.WriteString("bus", bus);
            if (serial is not null)
                w.WriteString("serial", serial);
        });

    public static QmpCommand DeviceAddVirtioNet(string id, string netdev, string mac, string bus) =>
        new("device_add", w =>
        {
            w.WriteString("driver", "virtio-net-pci");
            w.WriteString("id", id);
            w.WriteString("netdev", netdev);
            w.WriteString("mac", mac);
            w.WriteString("bus", bus);
        });

    /// <summary>A vCPU in the slot query-hotpluggable-cpus listed: its type as driver, its props copied as they came.</summary>
    public static QmpCommand DeviceAddCpu(string driver, string id, JsonElement slotProperties) =>
        new("device_add", w =>
        {
            w.WriteString("driver", driver);
            w.WriteString("id", id);
            foreach (var property in slotProperties.EnumerateObject())
                property.WriteTo(w);
        });

    public static QmpCommand DeviceAddPcDimm(string id, string memdev) =>
        new("device_add", w =>
        {
            w.WriteString("driver", "pc-dimm");
            w.WriteString("id", id);
            w.WriteString("memdev", memdev);
        });

    // ---- backends ------------------------------------------------------------------------------

    /// <summary>A listening unix socket (server, wait=false) as a chardev.</summary>
    public static QmpCommand ChardevAddUnixServer(string id, string socketPath) =>
        new("chardev-add", w =>
        {
            w.WriteString("id", id);
            w.WriteStartObject("backend");
            w.WriteString("type", "socket");
            w.WriteStartObject("data");
            w.WriteStartObject("addr");
            w.WriteString("type", "unix");
            w.WriteStartObject("data");
            w.WriteString("path", socketPath);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteBoolean("server", true);
            w.WriteBoolean("wait", false);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    public static QmpCommand ChardevRemove(string id) => new("chardev-remove", w => w.WriteString("id", id));

    /// <summary>
    /// A raw image over a file node. QEMU's "file" driver refuses anything but a regular file; a host
    /// block device (a loop device, a disk given to a container) needs "host_device".
    /// </summary>
    public static QmpCommand BlockdevAddRaw(string nodeName, string path, bool readOnly, bool hostDevice) =>
        new("blockdev-add", w =>
        {
            w.WriteString("driver", "raw");
            w.WriteString("node-name", nodeName);
            w.WriteBoolean("read-only", readOnly);
            w.WriteStartObject("file");
            w.WriteString("driver", hostDevice ? "host_device" : "file");
            w.WriteString("filename", path);
            w.WriteBoolean("read-only", readOnly);
            w.WriteEndObject();
        });

    public static QmpCommand BlockdevDel(string nodeName) => new("blockdev-del", w => w.WriteString("node-name", nodeName));

    /// <summary>A tap backend over an fd handed over earlier with getfd under <paramref name="fdName"/>.</summary>
    public static QmpCommand NetdevAddTap(string id, string fdName) =>
        new("netdev_add", w =>
        {
            w.WriteString("type", "tap");
            w.WriteString("id", id);
            w.WriteString("fd", fdName);
        });

    public static QmpCommand NetdevAddUser(string id) =>
        new("netdev_add", w =>
        {
            w.WriteString("type", "user");
            w.WriteString("id", id);
        });

    public static QmpCommand NetdevDel(string id) => new("netdev_del", w => w.WriteString("id", id));

    /// <summary>Anonymous RAM of <paramref name="sizeBytes"/> for a pc-dimm.</summary>
    public static QmpCommand ObjectAddMemoryBackendRam(string id, long sizeBytes) =>
        new("object-add", w =>
        {
            w.WriteString("qom-type", "memory-backend-ram");
            w.WriteString("id", id);
            w.WriteNumber("size", sizeBytes);
        });

    public static QmpCommand ObjectDel(string id) => new("object-del", w => w.WriteString("id", id));
}
