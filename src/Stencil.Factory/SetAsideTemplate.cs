namespace Stencil.Factory;

/// <summary>A template that failed to restore and was moved aside (its memory freed), with QEMU's reason.</summary>
public sealed record SetAsideTemplate(string Fingerprint, string Directory, DateTimeOffset When, string Reason);
