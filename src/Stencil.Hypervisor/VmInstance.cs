namespace Stencil.Hypervisor;

/// <summary>
/// The per-process half of a command line: role, paths, and the values that may (and must) differ
/// between a template and each of its clones.
/// </summary>
public sealed record VmInstance(VmRole Role, VmInstancePaths Paths)
{
    /// <summary>
    /// Guest memory file for a template (created share=on) or a clone (mapped share=off). Must be
    /// null for a cold boot, which uses anonymous RAM.
    /// </summary>
    public string? MemoryFile { get; init; }

    /// <summary>Host folder behind the description's 9p device; required when it has one.</summary>
    public string? SharedDirectory { get; init; }

    /// <summary>vmgenid GUID; null lets QEMU pick a fresh one (guid=auto).</summary>
    public Guid? VmGenId { get; init; }

    /// <summary>
    /// A clone that loads a checkpoint's device state (<see cref="QemuVm.LoadDeviceStateAsync"/>) instead of
    /// its template's: it starts stopped (-S) and expects a stream without QEMU's configuration section, as
    /// xen-save-devices-state writes it (-global migration.send-configuration=off).
    /// </summary>
    public bool LoadsDeviceState { get; init; }

    /// <summary>What error messages call this VM ("pod-abc", "template"); never on the command line.</summary>
    public string Name { get; init; } = "qemu";

    public static VmInstance ForColdBoot(VmInstancePaths paths) => new(VmRole.ColdBoot, paths);

    public static VmInstance ForTemplate(VmInstancePaths paths, string memoryFile) =>
        new(VmRole.Template, paths) { MemoryFile = memoryFile };

    public static VmInstance ForClone(VmInstancePaths paths, string memoryFile) =>
        new(VmRole.Clone, paths) { MemoryFile = memoryFile };
}
