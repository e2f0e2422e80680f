namespace Stencil.Factory.Internal;

/// <summary>
/// Where a template of one fingerprint stands, as the factory sees it in the template folder. The
/// factory clones only a Ready template; it builds an Absent one; it removes Stale ones and abandoned
/// builds when it builds; it leaves a SetAside one to `stencil factory init`.
/// </summary>
internal enum TemplateState
{
    /// <summary>No finished template of this fingerprint (never built, removed, or set aside fewer than the limit times).</summary>
    Absent,

    /// <summary>A build folder ({fingerprint}.building-{pid}); seen under the lock, its builder died.</summary>
    Building,

    /// <summary>Finished (metadata, state and memory present) and of the current fingerprint.</summary>
    Ready,

    /// <summary>Finished, of another fingerprint: an input changed. Running clones keep their memory.</summary>
    Stale,

    /// <summary>
    /// Failed (to build, or a clone to restore) <see cref="TemplateManager.MaxAutomaticRebuilds"/> times:
    /// not rebuilt automatically, so VMs are cold booted until `stencil factory init` builds it again.
    /// </summary>
    SetAside,
}
