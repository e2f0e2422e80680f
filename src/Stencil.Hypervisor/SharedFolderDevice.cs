namespace Stencil.Hypervisor;

/// <summary>
/// A virtio-9p device in the description. Which host folder it exports is per instance
/// (<see cref="VmInstance.SharedDirectory"/>): the fsdev is a host-side backend outside the saved
/// state, so every clone of one template can export its own pod's folder.
/// </summary>
public sealed record SharedFolderDevice(string MountTag);
