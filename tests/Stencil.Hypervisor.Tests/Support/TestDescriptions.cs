namespace Stencil.Hypervisor.Tests.Support;

internal static class TestDescriptions
{
    /// <summary>
    /// A guest-less VM with every device the factory will use: SeaBIOS finds nothing to boot and
    /// idles, which is enough for QMP, save/restore and hotplug as seen from QEMU's side. Always TCG:
    /// the suite must behave the same on every host.
    /// </summary>
    public static VmDescription Small() => new()
    {
        Accelerator = Accelerator.Tcg,
        Cpus = new CpuTopology(1, 4),
        Memory = new MemoryLayout(128, 640, 4),
        HotplugRootPorts = 4,
        SharedFolder = new SharedFolderDevice("stencil"),
        VmGenId = true,
        Rng = true,
        SerialConsole = true,
    };
}
