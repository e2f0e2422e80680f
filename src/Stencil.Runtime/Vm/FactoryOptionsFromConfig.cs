using System.Globalization;
using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.Runtime.Configuration;

namespace Stencil.Runtime.Vm;

/// <summary>
/// configuration.toml -> the factory's options. The VM every pod starts as: [hypervisor]'s machine,
/// vCPUs and memory (the template's size; pods grow by hotplug up to default_maxvcpus and the host's
/// memory, in memory_slots DIMMs), the guest image with the image's kernel command line plus
/// kernel_params (and norandmaps under TCG), pcie_root_ports for hot-plugged disks and NICs, the 9p share the runtime fills,
/// vmgenid, virtio-rng and a serial console. KVM when it is usable, TCG otherwise.
/// </summary>
public static class FactoryOptionsFromConfig
{
    public static VmFactoryOptions Create(StencilConfig config, string meminfoPath = "/proc/meminfo")
    {
        ArgumentNullException.ThrowIfNull(config);
        var h = config.Hypervisor;
        var maxVcpus = Math.Max(h.DefaultVcpus, h.DefaultMaxVcpus > 0 ? h.DefaultMaxVcpus : Environment.ProcessorCount);
        var memory = h.MemorySlots > 0
            ? new MemoryLayout(h.DefaultMemory, Math.Max(h.DefaultMemory, HostMemoryMiB(meminfoPath)), h.MemorySlots)
            : MemoryLayout.Fixed(h.DefaultMemory);
        var accelerator = VmFactoryOptions.DetectAccelerator();
        var description = new VmDescription
        {
            Machine = h.MachineType,
            Accelerator = accelerator,
            FirmwarePath = string.IsNullOrEmpty(h.Firmware) ? null : h.Firmware,
            Cpus = new CpuTopology(h.DefaultVcpus, maxVcpus),
            Memory = memory,
            Kernel = new KernelBoot(h.Kernel, h.Initrd, GuestKernelCommandLine.Compose(h.KernelParams, config.Agent.EnableDebug,
                AddressRandomization(h.GuestAddressRandomization, accelerator))),
            HotplugRootPorts = h.PcieRootPorts,
            SharedFolder = new SharedFolderDevice(PodVmRequest.SharedMountTag),
            VmGenId = h.EnableVmgenid,
            Rng = true,
            SerialConsole = true,
            Sandbox = string.IsNullOrEmpty(h.SeccompSandbox) ? null : h.SeccompSandbox,
            Capabilities = h.QemuCapabilities == "all" ? null : h.QemuCapabilities,
            TcgTranslationCacheMiB = h.TcgTranslationCacheMiB,
            MemoryMerge = h.EnableMemMerge,
        };
        return new VmFactoryOptions
        {
            Description = description,
            Qemu = new QemuVmOptions { QemuBinary = h.Path },
            EnableTemplate = config.Factory.EnableTemplate,
            TemplatePath = config.Factory.TemplatePath,
            PoolSize = config.Factory.PoolSize,
            PoolRefillDelay = TimeSpan.FromMilliseconds(config.Factory.PoolRefillDelayMs),
            PoolDirectory = Path.Combine(config.Runtime.StateDir, "pool"),
            TemplateBuildTimeout = TimeSpan.FromSeconds(config.Factory.TemplateBuildTimeout),
            AgentTimeout = TimeSpan.FromSeconds(config.Agent.DialTimeout),
        };
    }

    /// <summary>[hypervisor] guest_address_randomization: "auto" is on under KVM and off under TCG (see HypervisorConfig).</summary>
    public static bool AddressRandomization(string setting, Accelerator accelerator) => setting switch
    {
        "on" => true,
        "off" => false,
        _ => accelerator == Accelerator.Kvm,
    };

    /// <summary>
    /// The ceiling for hot-added memory: the host's RAM, rounded down to whole GiB so that the few
    /// KiB MemTotal moves between host kernels do not change the template's fingerprint.
    /// </summary>
    internal static int HostMemoryMiB(string meminfoPath)
    {
        foreach (var line in File.ReadLines(meminfoPath))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                continue;
            var kib = long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return (int)Math.Max(1024, kib / (1024 * 1024) * 1024);
        }
        throw StencilException.Internal($"{meminfoPath} has no MemTotal line");
    }
}
