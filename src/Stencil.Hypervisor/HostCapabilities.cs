namespace Stencil.Hypervisor;

/// <summary>What this host offers for running VMs; `stencil check` prints it.</summary>
public sealed record HostCapabilities
{
    /// <summary>Resolved QEMU binary; null when not found.</summary>
    public string? QemuPath { get; init; }

    /// <summary>"7.2.22"; null when QEMU could not be run.</summary>
    public string? QemuVersion { get; init; }

    /// <summary>QEMU's own first --version line ("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)").</summary>
    public string? QemuVersionLine { get; init; }

    /// <summary>Why QEMU is not usable, if it is not.</summary>
    public string? QemuProblem { get; init; }

    /// <summary>/dev/kvm opened read-write.</summary>
    public bool KvmOpens { get; init; }

    /// <summary>
    /// /dev/kvm opens and is hardware KVM (kvm_intel or kvm_amd). A /dev/kvm served only by kvm_pvm
    /// (PVM, found on some nested cloud hosts) opens fine but cannot run a stock guest kernel.
    /// </summary>
    public bool KvmUsable { get; init; }

    /// <summary>Why KVM is not usable ("/dev/kvm: no such file", "... kvm_pvm ..."), if it is not.</summary>
    public string? KvmProblem { get; init; }

    /// <summary>/dev/vhost-vsock exists (the agent could use vsock instead of a virtio-serial port).</summary>
    public bool VhostVsock { get; init; }

    /// <summary>QEMU has the virtio-9p-pci device (built with virtfs).</summary>
    public bool Supports9p { get; init; }

    /// <summary>tmpfs mount points (candidates for template memory files).</summary>
    public IReadOnlyList<string> TmpfsMounts { get; init; } = [];

    /// <summary>KVM when it is usable (opens, and is not PVM only), TCG otherwise.</summary>
    public Accelerator PreferredAccelerator => KvmUsable ? Accelerator.Kvm : Accelerator.Tcg;
}
