namespace Stencil.Agent.Client;

/// <summary>
/// A virtio-blk disk the host hot-plugged for a container, to appear in it as the block device node
/// <see cref="ContainerPath"/>. The spec's linux.devices entry at that path keeps the host's
/// major/minor; the agent replaces them (and the matching linux.resources.devices rules) with the
/// guest device's numbers.
/// </summary>
/// <param name="Serial">The disk's serial= property (what the VM's AttachBlockDevice returned).</param>
/// <param name="ContainerPath">The linux.devices[].path it becomes, e.g. "/dev/loop3".</param>
/// <param name="Timeout">How long the agent waits for the disk to appear; null: 10 s.</param>
public sealed record ContainerDevice(string Serial, string ContainerPath, TimeSpan? Timeout = null);
