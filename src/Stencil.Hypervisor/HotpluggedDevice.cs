namespace Stencil.Hypervisor;

/// <summary>A device added to a running VM; pass it back to <see cref="QemuVm.RemoveDeviceAsync"/>.</summary>
public sealed record HotpluggedDevice
{
    internal HotpluggedDevice(string id, DeviceKind kind, string? rootPort, string? backendId)
    {
        Id = id;
        Kind = kind;
        RootPort = rootPort;
        BackendId = backendId;
    }

    /// <summary>QEMU's device id (qdev_id in query-pci).</summary>
    public string Id { get; }

    public DeviceKind Kind { get; }

    /// <summary>The pcie-root-port it sits on (disks and NICs), e.g. "rp2".</summary>
    public string? RootPort { get; }

    /// <summary>The host-side object behind it: block node, netdev, chardev or memory backend.</summary>
    public string? BackendId { get; }
}
