namespace Stencil.Factory;

/// <summary>One finished template.</summary>
/// <param name="MemoryFileBytes">Apparent size of the guest memory file (the guest's RAM size).</param>
/// <param name="MemoryFileAllocatedBytes">What it really occupies in the tmpfs (pages the template guest touched).</param>
/// <param name="ClonesServed">Clones started from it, by every process.</param>
/// <param name="FingerprintText">Every input the fingerprint hashes (QEMU, kernel, initrd, command line).</param>
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
    string FingerprintText)
{
    public TimeSpan Age => DateTimeOffset.UtcNow - Created;
}
