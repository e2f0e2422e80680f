namespace Stencil.Factory.Internal;

/// <summary>
/// What the pool needs from whoever makes clones, and nothing more: make one ahead of time, hand one
/// over. The pool knows nothing of templates, fix-ups or cold boots.
/// </summary>
internal interface IPooledCloneSource
{
    /// <summary>A paused clone with its agent connected, in a folder of its own under <paramref name="poolDirectory"/>.</summary>
    Task<PooledClone> MakeAsync(string poolDirectory, CancellationToken cancellationToken);

    /// <summary>Resumes and fixes up a pooled clone for <paramref name="request"/>; on failure the clone is disposed.</summary>
    Task<FactoryVm> HandOverAsync(PooledClone clone, VmRequest request, CancellationToken cancellationToken);
}
