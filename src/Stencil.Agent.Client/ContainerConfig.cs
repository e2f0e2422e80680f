namespace Stencil.Agent.Client;

/// <param name="OciSpecJson">config.json for the guest: root.path and bind-mount sources are guest
/// paths (relative ones are relative to the container's folder; absolute ones must lie in it or in
/// the shared folder).</param>
/// <param name="OciRuntime">"crun" or "runc"; null: the guest's default.</param>
/// <param name="Devices">Hot-plugged disks the container sees as block device nodes.</param>
public sealed record ContainerConfig(
    string Id,
    ReadOnlyMemory<byte> OciSpecJson,
    IReadOnlyList<StorageMount>? Storages = null,
    string? OciRuntime = null,
    IReadOnlyList<ContainerDevice>? Devices = null);
