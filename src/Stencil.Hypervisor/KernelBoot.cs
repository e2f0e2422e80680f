namespace Stencil.Hypervisor;

/// <summary>
/// Direct kernel boot. An uncompressed vmlinux with a PVH note is booted with plain -kernel: QEMU
/// sees the note and enters it through PVH, skipping the bzImage decompressor.
/// </summary>
public sealed record KernelBoot(string KernelPath, string? InitrdPath = null, string? CommandLine = null);
