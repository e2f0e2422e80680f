namespace Stencil.Factory;

/// <summary>What `stencil factory status` shows.</summary>
/// <param name="TemplatePath">The template folder.</param>
/// <param name="TmpfsMounted">A tmpfs is mounted at <paramref name="TemplatePath"/>.</param>
/// <param name="MountedByStencil">...and the factory mounted it (destroy unmounts it).</param>
/// <param name="CurrentFingerprint">The fingerprint the current configuration and files give; null if it could not be computed.</param>
/// <param name="FingerprintProblem">Why not (a missing kernel, no QEMU), if so.</param>
/// <param name="Templates">Finished templates; the current one has <see cref="TemplateStatus.IsCurrent"/>.</param>
/// <param name="SetAside">Templates set aside after a clone failed to restore, newest first.</param>
public sealed record FactoryStatus(
    string TemplatePath,
    bool TmpfsMounted,
    bool MountedByStencil,
    string? CurrentFingerprint,
    string? FingerprintProblem,
    IReadOnlyList<TemplateStatus> Templates,
    IReadOnlyList<SetAsideTemplate> SetAside);
