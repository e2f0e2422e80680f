using Stencil.Hypervisor;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Support;

/// <summary>The guest image from `make guest` and the VM description the tests give the factory.</summary>
public static class GuestImage
{
    public const string ShareTag = "stencil";

    public static string Kernel => Path.Combine(RepoPaths.GuestDir, "vmlinux");

    public static string Initrd => Path.Combine(RepoPaths.GuestDir, "initrd");

    public static void Require()
    {
        Prerequisite.File(Kernel, "make guest");
        Prerequisite.File(Initrd, "make guest");
        Prerequisite.Executable("qemu-system-x86_64", "scripts/deps.sh");
    }

    /// <summary>
    /// One vCPU and 256 MiB at boot (the template), room for one more vCPU, two DIMMs up to 1 GiB and
    /// two hot-plugged PCIe devices; 9p share, vmgenid, virtio-rng, console to a file.
    /// </summary>
    public static VmDescription Description(string? initrd = null, int memoryMiB = 256) => new()
    {
        Accelerator = Factory.VmFactoryOptions.DetectAccelerator(),
        Cpus = new CpuTopology(1, 2),
        Memory = new MemoryLayout(memoryMiB, 1024, 2),
        Kernel = new KernelBoot(Kernel, initrd ?? Initrd, GuestKernelCommandLine.Default),
        HotplugRootPorts = 2,
        SharedFolder = new SharedFolderDevice(ShareTag),
        VmGenId = true,
        Rng = true,
        SerialConsole = true,
    };
}
