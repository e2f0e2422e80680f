namespace Stencil.Agent.Client;

/// <summary>
/// Something the agent mounts for a container before the OCI runtime runs.
/// <see cref="MountPoint"/> is relative to the container's folder in the guest
/// (/run/stencil/containers/&lt;id&gt;), e.g. "rootfs"; the spec's root.path names the same place.
/// </summary>
public sealed record StorageMount(StorageKind Kind, string Source, string MountPoint, string FsType = "",
    IReadOnlyList<string>? Options = null, TimeSpan? DeviceTimeout = null)
{
    /// <summary>For <see cref="StorageKind.Ephemeral"/>: a folder inside the tmpfs to bind instead of
    /// all of it (relative; made when missing). Empty: the whole tmpfs.</summary>
    public string Subpath { get; init; } = "";

    /// <param name="sharedPath">Relative to the shared folder; no "..".</param>
    public static StorageMount Shared(string sharedPath, string mountPoint, IReadOnlyList<string>? options = null) =>
        new(StorageKind.SharedPath, sharedPath, mountPoint, "", options);

    public static StorageMount BlockByPci(string pciAddress, string fsType, string mountPoint, IReadOnlyList<string>? options = null) =>
        new(StorageKind.BlockByPci, pciAddress, mountPoint, fsType, options);

    /// <summary>The sandbox's tmpfs <paramref name="name"/> (made by the first container naming it, with
    /// <paramref name="options"/> such as "size=N", "mode=1777"), bind-mounted at <paramref name="mountPoint"/>.</summary>
    public static StorageMount Ephemeral(string name, string mountPoint, IReadOnlyList<string>? options = null) =>
        new(StorageKind.Ephemeral, name, mountPoint, "tmpfs", options);

    public static StorageMount BlockBySerial(string serial, string fsType, string mountPoint, IReadOnlyList<string>? options = null) =>
        new(StorageKind.BlockBySerial, serial, mountPoint, fsType, options);
}
