namespace Stencil.Agent.Client;

/// <param name="MountTag">The virtio-9p-pci device's mount_tag.</param>
/// <param name="GuestPath">Absolute, under /run/stencil; null: /run/stencil/shared.</param>
/// <param name="Msize">9p msize; 0: the agent's default (512000).</param>
public sealed record SharedFolderConfig(string MountTag, string? GuestPath = null, uint Msize = 0);
