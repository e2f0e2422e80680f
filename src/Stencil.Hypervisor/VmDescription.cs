namespace Stencil.Hypervisor;

/// <summary>
/// Everything about a VM that must be identical between a template and its clones: machine, CPU,
/// memory, firmware, kernel and the device set. Per-process values (socket paths, memory file,
/// shared folder, vmgenid) live in <see cref="VmInstance"/>. A template and its clones are built
/// from one description by <see cref="QemuCommandLine.Build"/>, so their device sets cannot drift.
/// </summary>
public sealed record VmDescription
{
    public const string DefaultAgentPortName = "stencil.agent";

    /// <summary>QEMU machine type. Hotplug root ports need q35 (PCIe).</summary>
    public string Machine { get; init; } = "q35";

    public Accelerator Accelerator { get; init; } = Accelerator.Tcg;

    /// <summary>-cpu model; null keeps QEMU's default for the accelerator.</summary>
    public string? CpuModel { get; init; }

    /// <summary>-bios image (e.g. qboot.rom); null keeps SeaBIOS. vmgenid hangs qboot: use SeaBIOS with it.</summary>
    public string? FirmwarePath { get; init; }

    public CpuTopology Cpus { get; init; } = CpuTopology.Fixed(1);

    public MemoryLayout Memory { get; init; } = MemoryLayout.Fixed(256);

    /// <summary>Direct kernel boot; null boots the firmware alone (it finds no boot device and idles).</summary>
    public KernelBoot? Kernel { get; init; }

    /// <summary>Name of the virtio-serial port the agent listens on (/dev/virtio-ports/NAME in the guest).</summary>
    public string AgentPortName { get; init; } = DefaultAgentPortName;

    /// <summary>pcie-root-ports created at boot (rp0..rpN-1): one per device hot-plugged later.</summary>
    public int HotplugRootPorts { get; init; }

    public SharedFolderDevice? SharedFolder { get; init; }

    /// <summary>A vmgenid device: the guest kernel reseeds its RNG when the generation id changes (each clone).</summary>
    public bool VmGenId { get; init; }

    /// <summary>A virtio-rng device fed from the host's /dev/urandom.</summary>
    public bool Rng { get; init; }

    /// <summary>A serial console (ttyS0); where it goes is per instance (<see cref="VmInstancePaths"/>).</summary>
    public bool SerialConsole { get; init; }

    /// <summary>QEMU's seccomp filter, the -sandbox option (e.g. "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    /// null: none. Not part of the saved state: a template and its clones may differ in it.</summary>
    public string? Sandbox { get; init; }

    /// <summary>
    /// Under TCG, the size in MiB of QEMU's buffer of translated guest code (-accel tcg,tb-size=N); 0: QEMU's
    /// default (up to 1 GiB on a 64-bit host). What a pod's QEMU holds of it is resident memory the pod pays
    /// for; a smaller buffer is flushed and refilled more often. Not part of the saved state.
    /// </summary>
    public int TcgTranslationCacheMiB { get; init; }

    /// <summary>
    /// Guest memory marked mergeable for the host's KSM (-machine mem-merge=on). Off: with KSM running, identical
    /// pages of different VMs would be merged, and the time a write to a merged page takes tells one guest what
    /// another holds (the side channel Kata documents). Not part of the saved state.
    /// </summary>
    public bool MemoryMerge { get; init; }

    /// <summary>
    /// The only capabilities QEMU keeps, comma-separated lower-case names without "cap_" ("chown,fowner"):
    /// QEMU is started through setpriv with its bounding set cut to these. Null: QEMU keeps the caller's.
    /// Not part of the saved state either.
    /// </summary>
    public string? Capabilities { get; init; }
}
