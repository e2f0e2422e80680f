namespace Stencil.Factory.Internal;

/// <summary>A computed fingerprint with the facts behind it (written into metadata.json at build time).</summary>
internal sealed record ResolvedFingerprint(
    string Fingerprint,
    string Text,
    string QemuBinary,
    string QemuVersion,
    string QemuSha256,
    string KernelPath,
    string KernelSha256,
    string? InitrdPath,
    string? InitrdSha256);
