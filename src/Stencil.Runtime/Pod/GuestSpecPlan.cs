using Stencil.Agent.Client;

namespace Stencil.Runtime.Pod;

/// <summary>
/// What it takes to run one container's spec in the guest: the rewritten spec, what the agent mounts
/// before the OCI runtime runs, and the host folders the shim must bind into the pod's shared folder (or,
/// without one, that the rootfs is an image on a disk).
/// </summary>
/// <param name="GuestSpecJson">config.json for the guest.</param>
/// <param name="Storages">Mounts the agent makes in the container's guest folder.</param>
/// <param name="HostBinds">Host paths to bind-mount into the shared folder first.</param>
/// <param name="Notes">What was changed and why, for the debug log.</param>
public sealed record GuestSpecPlan(
    byte[] GuestSpecJson,
    IReadOnlyList<StorageMount> Storages,
    IReadOnlyList<HostBind> HostBinds,
    IReadOnlyList<string> Notes)
{
    /// <summary>Host block devices to hot-plug into the VM (linux.devices of type b), in spec order.</summary>
    public IReadOnlyList<HostBlockDevice> BlockDevices { get; init; } = [];

    /// <summary>
    /// The rootfs is an ext4 image the shim makes and hot-plugs ([hypervisor] shared_fs = "none"), not a
    /// path of the shared folder: <see cref="Storages"/> lacks it until <see cref="WithRootfsDisk"/> names the disk.
    /// </summary>
    public bool RootfsOnDisk { get; init; }

    /// <summary>
    /// The plan with the rootfs storage first: the disk of virtio-blk serial <paramref name="serial"/>, mounted
    /// read-write even for a read-only root, as the 9p share is: crun makes the container's root read-only
    /// (root.readonly stays in the spec) after it has made the mount points it needs in it.
    /// </summary>
    public GuestSpecPlan WithRootfsDisk(string serial) => RootfsOnDisk
        ? this with { Storages = [StorageMount.BlockBySerial(serial, "ext4", GuestSpecBuilder.RootfsMountPoint), .. Storages] }
        : throw new InvalidOperationException("the plan's rootfs is not on a disk");
}

/// <param name="HostPath">The bind mount's source on the host.</param>
/// <param name="SharedRelativePath">Where it appears in the shared folder ("c1/mounts/0").</param>
/// <param name="IsFile">A file is bound onto an empty file, a folder onto an empty folder.</param>
/// <param name="ReadOnly">Bound read-only on the host too, so the guest cannot write through 9p.</param>
public sealed record HostBind(string HostPath, string SharedRelativePath, bool IsFile, bool ReadOnly)
{
    /// <summary>"rslave" for a HostToContainer mount: later host mounts below the source show in the
    /// shared folder, which 9p serves to the guest; "rprivate" otherwise. Null: the new bind's default.</summary>
    public string? Propagation { get; init; }
}
