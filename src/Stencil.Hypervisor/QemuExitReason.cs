namespace Stencil.Hypervisor;

/// <summary>
/// Why QEMU exited on its own, read from what it printed (see <see cref="QemuVm.ExitReason"/>). The
/// first five are the ways a clone's command line or state can disagree with its template's.
/// </summary>
public enum QemuExitReason
{
    /// <summary>Nothing recognised in its output (a crash, a bad option, a killed process).</summary>
    Other,

    /// <summary>
    /// The guest memory size differs from the template's: at start "backing store size ... does not
    /// match 'size' option" (the memory file), while loading "Length mismatch: pc.ram: ..." (the state).
    /// </summary>
    MemorySizeMismatch,

    /// <summary>The guest memory file could not be used: "can't open backing store ...", or QEMU named the file in its complaint.</summary>
    MemoryFileUnusable,

    /// <summary>The saved state is for another machine type: "Machine type received is '...' and local is '...'".</summary>
    MachineTypeMismatch,

    /// <summary>The saved state has a device this VM lacks: "Unknown savevm section or instance '...'".</summary>
    UnknownDeviceSection,

    /// <summary>Save and restore disagree on a migration capability: "Capability x-ignore-shared is off, but received capability is on".</summary>
    CapabilityMismatch,

    /// <summary>Loading the saved state failed otherwise (not a migration stream, a truncated or corrupt file): "load of migration failed".</summary>
    StateLoadFailed,
}
