namespace Stencil.Hypervisor;

/// <summary>A raw image or block device to hot-plug as virtio-blk.</summary>
public sealed record DiskSpec(string Path)
{
    public bool ReadOnly { get; init; }

    /// <summary>Shown in the guest as /sys/block/vdX/serial and /dev/disk/by-id/virtio-SERIAL (at most 20 characters).</summary>
    public string? Serial { get; init; }

    /// <summary>The pcie-root-port to plug it into ("rp0"); null takes the lowest free one.</summary>
    public string? RootPort { get; init; }
}
