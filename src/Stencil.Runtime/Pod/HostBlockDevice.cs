namespace Stencil.Runtime.Pod;

/// <summary>A host block device an OCI linux.devices entry asks for: hot-plugged into the VM as virtio-blk.</summary>
/// <param name="HostPath">The host's node for the entry's major:minor ("/dev/loop3").</param>
/// <param name="ContainerPath">linux.devices[].path, where the container sees it.</param>
/// <param name="HostMajor">The entry's major (the host's number; the agent replaces it with the guest's).</param>
/// <param name="HostMinor">The entry's minor.</param>
/// <param name="ReadOnly">The container's device rules never allow writing it: the VM gets it read-only.</param>
public sealed record HostBlockDevice(string HostPath, string ContainerPath, long HostMajor, long HostMinor, bool ReadOnly);
