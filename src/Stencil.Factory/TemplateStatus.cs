namespace Stencil.Factory;

/// <summary>One finished template.</summary>
/// <param name="MemoryFileBytes">Apparent size of the guest memory file (the guest's RAM size).</param>
/// <param name="MemoryFileAllocatedBytes">What it really occupies in the tmpfs (pages the template guest touched).</param>
/// <param name="ClonesServed">Clones started from it, by every process.</param>
/// <param name="FingerprintText">Every input the fingerprint hashes (QEMU, kernel, initrd, command line).</param>
/// <param name="AgentVersion">The guest agent's version, as it answered while the template was built (null: not recorded).</param>
/// <param name="GuestKernelRelease">The guest kernel's release, likewise.</param>
public sealed record TemplateStatus(
    string Fingerprint,
    string Directory,
    bool IsCurrent,
    DateTimeOffset Created,
    TimeSpan BuildTime,
    long MemoryFileBytes,
    long MemoryFileAllocatedBytes,
    long StateFileBytes,
    long ClonesServed,
    string QemuVersion,
    string Kernel,
    string? Initrd,
    string Machine,
    string Accelerator,
    int Vcpus,
    int MemoryMiB,
    string FingerprintText,
    string? AgentVersion = null,
    string? GuestKernelRelease = null)
{
    public TimeSpan Age => DateTimeOffset.UtcNow - Created;
}
