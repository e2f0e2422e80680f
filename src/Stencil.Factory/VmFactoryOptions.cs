using Stencil.Hypervisor;

namespace Stencil.Factory;

/// <summary>How a <see cref="VmFactory"/> makes VMs. The runtime maps its configuration.toml here.</summary>
public sealed record VmFactoryOptions
{
    /// <summary>
    /// The VM every pod gets before it is resized: the template is built from it and every clone
    /// restored with it. It should have a 9p <see cref="VmDescription.SharedFolder"/>, vmgenid
    /// (a clone's kernel reseeds its RNG when the generation id changes), a serial console, root
    /// ports for hot-plugged disks and NICs, and room (max vCPUs, memory slots) to grow.
    /// </summary>
    public required VmDescription Description { get; init; }

    public QemuVmOptions Qemu { get; init; } = new();

    /// <summary>Clone from a template ([factory] enable_template); false: every VM is a cold boot.</summary>
    public bool EnableTemplate { get; init; } = true;

    /// <summary>Folder of the templates ([factory] template_path); a tmpfs is mounted there if it is not one already.</summary>
    public string TemplatePath { get; init; } = "/run/stencil/template";

    /// <summary>Paused clones kept ready ([factory] pool_size); 0: no pool.</summary>
    public int PoolSize { get; init; }

    /// <summary>
    /// After a clone is taken, how long the pool waits before it makes the next one ([factory]
    /// pool_refill_delay_ms): making a clone competes for the CPUs the pod that took one needs.
    /// </summary>
    public TimeSpan PoolRefillDelay { get; init; }

    /// <summary>
    /// Where pooled clones keep their sockets and the folder they export over 9p (a clone's export
    /// folder is fixed on its QEMU command line when it starts, before any pod is known).
    /// </summary>
    public string PoolDirectory { get; init; } = "/run/stencil/pool";

    /// <summary>Bound on building a template: boot, agent ready, save ([factory] template_build_timeout).</summary>
    public TimeSpan TemplateBuildTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>How long a started VM's agent has to answer ([agent] dial_timeout).</summary>
    public TimeSpan AgentTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// Size of the template tmpfs when the factory mounts one. It holds the current template's memory
    /// file plus, while clones of it still run, the pages of templates replaced before it.
    /// </summary>
    public long TemplateTmpfsBytes => ((long)Description.Memory.SizeMiB * 3 + 64) << 20;

    /// <summary>
    /// KVM when /dev/kvm opens and is hardware KVM (not only kvm_pvm, which opens but cannot run a
    /// stock kernel), TCG otherwise. Cheap (one open, one folder listing): no QEMU process is started.
    /// </summary>
    public static Accelerator DetectAccelerator(string kvmDevice = "/dev/kvm", string modulesDirectory = "/sys/module")
    {
        if (!HostProbe.ProbeKvm(kvmDevice).Usable)
            return Accelerator.Tcg;
        var pvmOnly = Directory.Exists(Path.Combine(modulesDirectory, "kvm_pvm"))
            && !Directory.Exists(Path.Combine(modulesDirectory, "kvm_intel"))
            && !Directory.Exists(Path.Combine(modulesDirectory, "kvm_amd"));
        return pvmOnly ? Accelerator.Tcg : Accelerator.Kvm;
    }
}
