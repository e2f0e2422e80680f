namespace Stencil.Runtime.Pod;

/// <summary>A host block device hot-plugged into the pod's VM for one container.</summary>
/// <param name="Serial">The virtio-blk serial the VM gave it (what detaching names).</param>
internal sealed record AttachedDevice(string Serial, string HostPath, string ContainerPath);
