using Stencil.Agent.Client;

namespace Stencil.Runtime.Pod;

/// <summary>
/// What it takes to run one container's spec in the guest: the rewritten spec, what the agent mounts
/// before the OCI runtime runs, and the host folders the shim must bind into the pod's shared folder.
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
