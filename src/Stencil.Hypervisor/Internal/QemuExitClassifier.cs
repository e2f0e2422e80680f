namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Reads why QEMU exited from its output. Pure: text in, reason out. The texts are QEMU's own
/// (7.2; see ../shared/facts/qemu-templating.md, "What breaks a clone"); the only place in Stencil
/// that matches them, so a QEMU that words them differently is fixed here.
/// </summary>
internal static class QemuExitClassifier
{
    /// <param name="output">What QEMU printed (its stderr and stdout tail).</param>
    /// <param name="memoryFile">The VM's guest memory file, if it has one: QEMU names it when it cannot use it.</param>
    public static QemuExitReason Classify(string output, string? memoryFile)
    {
        ArgumentNullException.ThrowIfNull(output);
        // The memory file is checked first: at start it is the only thing QEMU reads from the
        // template, and the restore messages below cannot appear before the state is loaded.
        if (Has(output, "does not match 'size' option") || Has(output, "backing store size"))
            return QemuExitReason.MemorySizeMismatch;
        if (Has(output, "backing store") || (!string.IsNullOrEmpty(memoryFile) && Has(output, memoryFile)))
            return QemuExitReason.MemoryFileUnusable;
        // A clone with less RAM than the state: "Length mismatch: pc.ram: 0x... in != 0x..." while loading.
        if (Has(output, "Length mismatch: ") || Has(output, "Size mismatch: "))
            return QemuExitReason.MemorySizeMismatch;
        if (Has(output, "Machine type received is"))
            return QemuExitReason.MachineTypeMismatch;
        // "Unknown savevm section or instance" (QEMU 7.2); "Unknown section or instance" elsewhere.
        if (Has(output, "section or instance '"))
            return QemuExitReason.UnknownDeviceSection;
        if (Has(output, "but received capability is on"))
            return QemuExitReason.CapabilityMismatch;
        if (Has(output, "load of migration failed") || Has(output, "Not a migration stream"))
            return QemuExitReason.StateLoadFailed;
        return QemuExitReason.Other;
    }

    private static bool Has(string output, string text) => output.Contains(text, StringComparison.Ordinal);
}
