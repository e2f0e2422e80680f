namespace Stencil.Hypervisor;

/// <summary>What one QEMU process built from a <see cref="VmDescription"/> is for.</summary>
public enum VmRole
{
    /// <summary>Boots the kernel; guest memory is anonymous RAM.</summary>
    ColdBoot,

    /// <summary>Boots the kernel into a shared memory file (share=on) that clones will map; saved once ready.</summary>
    Template,

    /// <summary>Maps the template's memory file privately (share=off, copy-on-write) and waits for its saved state (-incoming defer).</summary>
    Clone,
}
