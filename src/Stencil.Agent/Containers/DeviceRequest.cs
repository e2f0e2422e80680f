namespace Stencil.Agent.Containers;

/// <summary>A hot-plugged virtio-blk disk a container sees as a block device node, as the service layer decoded it.</summary>
/// <param name="Serial">The disk's serial= property.</param>
/// <param name="ContainerPath">The linux.devices[].path whose numbers become the guest device's.</param>
internal sealed record DeviceRequest(string Serial, string ContainerPath, TimeSpan Timeout);
