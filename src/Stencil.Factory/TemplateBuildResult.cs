namespace Stencil.Factory;

/// <summary>What <see cref="VmFactory.EnsureTemplateAsync"/> did.</summary>
/// <param name="Built">True when this call built the template; false when it was there (or another process built it meanwhile).</param>
/// <param name="Elapsed">Time of the call, including waiting for another builder's lock.</param>
/// <param name="Removed">Stale template folders removed by this call.</param>
public sealed record TemplateBuildResult(TemplateStatus Template, bool Built, TimeSpan Elapsed, IReadOnlyList<string> Removed);
