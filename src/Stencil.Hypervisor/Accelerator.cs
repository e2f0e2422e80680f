namespace Stencil.Hypervisor;

/// <summary>
/// How QEMU runs guest code. Part of the description (a template saved under one accelerator is
/// restored under the same one); chosen by the caller, usually from <see cref="HostCapabilities"/>.
/// </summary>
public enum Accelerator
{
    /// <summary>Software emulation: always available, slow.</summary>
    Tcg,

    /// <summary>Hardware virtualization through /dev/kvm.</summary>
    Kvm,
}
