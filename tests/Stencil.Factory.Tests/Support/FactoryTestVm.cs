using Stencil.Hypervisor;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Support;

/// <summary>The VM description the factory tests give the factory: the guest image from `make guest`, sized for hotplug.</summary>
public static class FactoryTestVm
{
    public const string ShareTag = "stencil";

    /// <summary>
    /// One vCPU and 256 MiB at boot (the template), room for one more vCPU, two DIMMs up to 1 GiB and
    /// two hot-plugged PCIe devices; 9p share, vmgenid, virtio-rng, console to a file.
    /// </summary>
    public static VmDescription Description(string? initrd = null, int memoryMiB = 256) => new()
    {
        Accelerator = VmFactoryOptions.DetectAccelerator(),
        Cpus = new CpuTopology(1, 2),
        Memory = new MemoryLayout(memoryMiB, 1024, 2),
        Kernel = new KernelBoot(GuestImage.Kernel, initrd ?? GuestImage.Initrd, GuestKernelCommandLine.Default),
        HotplugRootPorts = 2,
        SharedFolder = new SharedFolderDevice(ShareTag),
        VmGenId = true,
        Rng = true,
        SerialConsole = true,
    };
}
