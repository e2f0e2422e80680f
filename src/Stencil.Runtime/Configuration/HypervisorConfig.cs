namespace Stencil.Runtime.Configuration;

/// <summary>[hypervisor]: the QEMU every pod VM (and the template) runs on.</summary>
public sealed record HypervisorConfig
{
    /// <summary>The QEMU binary.</summary>
    public string Path { get; init; } = "/usr/bin/qemu-system-x86_64";

    /// <summary>Guest kernel: an uncompressed vmlinux (booted through PVH).</summary>
    public string Kernel { get; init; } = "/usr/share/stencil/vmlinux";

    /// <summary>Guest initrd holding the agent.</summary>
    public string Initrd { get; init; } = "/usr/share/stencil/initrd";

    /// <summary>Extra kernel parameters, appended to the runtime's own command line.</summary>
    public string KernelParams { get; init; } = "";

    /// <summary>
    /// Address-space layout randomization in the guest: "auto" (off under TCG, on under KVM), "on" or
    /// "off". Off adds the kernel parameter norandmaps. Under TCG, QEMU 7.2 keys the guest code it has
    /// translated by virtual address, so a process whose libraries land at new random addresses is
    /// translated afresh: every crun call in the guest paid that (`ctr task exec` 0.26 s against 0.15 s with
    /// norandmaps, docs/performance.md). Under KVM randomization costs nothing, so "auto" keeps it.
    /// </summary>
    public string GuestAddressRandomization { get; init; } = "auto";

    /// <summary>
    /// QEMU's seccomp filter (its -sandbox option; Kata's seccompsandbox): QEMU may not use obsolete
    /// system calls, gain privileges, start programs or change its scheduling. "" runs QEMU without it.
    /// </summary>
    public string SeccompSandbox { get; init; } = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

    /// <summary>
    /// The only capabilities QEMU keeps (its bounding set, through setpriv): what the 9p server needs to
    /// give container files their owners, modes, device nodes and file capabilities. "all": QEMU keeps
    /// every capability root has.
    /// </summary>
    public string QemuCapabilities { get; init; } = DefaultQemuCapabilities;

    public const string DefaultQemuCapabilities = "chown,dac_override,dac_read_search,fowner,fsetid,mknod,setfcap";

    /// <summary>Under TCG, QEMU's buffer of translated guest code in MiB (tb-size); 0: QEMU's default.</summary>
    public int TcgTranslationCacheMiB { get; init; }

    /// <summary>Guest memory offered to the host's KSM (QEMU's mem-merge); off by default (a cross-VM side channel).</summary>
    public bool EnableMemMerge { get; init; }

    /// <summary>QEMU machine type.</summary>
    public string MachineType { get; init; } = "q35";

    /// <summary>Firmware image; empty: QEMU's default (SeaBIOS).</summary>
    public string Firmware { get; init; } = "";

    /// <summary>vCPUs a VM starts with; a pod's CPU limits are hot-added on top.</summary>
    public int DefaultVcpus { get; init; } = 1;

    /// <summary>Upper bound for hot-added vCPUs; 0: the number of host CPUs.</summary>
    public int DefaultMaxVcpus { get; init; }

    /// <summary>Memory a VM starts with, MiB; a pod's memory limits are hot-added on top.</summary>
    public int DefaultMemory { get; init; } = 256;

    /// <summary>DIMM slots for memory hotplug.</summary>
    public int MemorySlots { get; init; } = 10;

    /// <summary>PCIe root ports created at boot, one per device that can be hot-plugged (NICs, disks).</summary>
    public int PcieRootPorts { get; init; } = 4;

    /// <summary>A vmgenid device, so that every clone of a template reseeds its kernel RNG.</summary>
    public bool EnableVmgenid { get; init; } = true;

    /// <summary>9p msize (bytes) of the shared folder that carries containers' rootfs into the guest.</summary>
    public int Msize9p { get; init; } = 8192;

    /// <summary>
    /// How containers' root file systems reach the guest (Kata's key of the same name): "virtio-9p", the pod's
    /// shared folder mounted over 9p; "none", no share in the guest at all: each container's rootfs is copied
    /// into an ext4 image that is hot-plugged as a virtio-blk disk. QEMU refuses to save or migrate a VM whose
    /// guest has a 9p share mounted, so a pod that is to be checkpointed needs "none".
    /// </summary>
    public string SharedFs { get; init; } = SharedFsVirtio9p;

    public const string SharedFsVirtio9p = "virtio-9p";

    public const string SharedFsNone = "none";

    /// <summary>With shared_fs = "none": the least size of a container's rootfs image in MiB (sparse: only written blocks cost).</summary>
    public int RootfsImageMiB { get; init; } = 1024;

    /// <summary>Copy the guest console into the shim log (debug level).</summary>
    public bool EnableDebug { get; init; }
}
