namespace Stencil.Agent.Containers;

/// <summary>A storage to mount for a container, as the service layer decoded it.</summary>
/// <param name="SharedPath">A folder in the sandbox's shared folder (relative), or null for a block device.</param>
/// <param name="MountPoint">Relative to the container's folder, or absolute inside it.</param>
internal sealed record StorageRequest(
    string? SharedPath,
    string? PciAddress,
    string? Serial,
    TimeSpan DeviceTimeout,
    string FsType,
    IReadOnlyList<string> Options,
    string MountPoint)
{
    /// <summary>The name of a sandbox tmpfs to bind (see <see cref="EphemeralVolumes"/>), or null.</summary>
    public string? Ephemeral { get; init; }

    /// <summary>A folder inside that tmpfs to bind instead of all of it (relative), or empty.</summary>
    public string EphemeralSubpath { get; init; } = "";
}
