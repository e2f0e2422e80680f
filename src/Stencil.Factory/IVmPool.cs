namespace Stencil.Factory;

/// <summary>
/// Clones restored ahead of time and kept paused, handed over on demand (resume, fix-ups) and
/// refilled in the background. This process's pool is <see cref="VmFactory.Pool"/>. The seam is
/// here so a long-lived daemon can later serve one pool to many shims: its implementation would
/// hand over a clone's QMP and agent sockets and export folder instead of an in-process QEMU.
/// </summary>
public interface IVmPool : IAsyncDisposable
{
    /// <summary>How many paused clones the pool keeps.</summary>
    int Size { get; }

    /// <summary>Paused clones ready right now.</summary>
    int ReadyCount { get; }

    /// <summary>
    /// Hands over a ready clone: resumed, fixed up (RNG reseeded, clock set, vmgenid fresh from its
    /// start), grown to the request's size. Null when none is ready: the pool never makes the caller
    /// wait for a clone to be made. The VM exports its own folder: read <see cref="FactoryVm.SharedDirectory"/>.
    /// </summary>
    Task<FactoryVm?> TryTakeAsync(VmRequest request, CancellationToken cancellationToken = default);

    /// <summary>Waits until at least <paramref name="count"/> clones are ready (tests, benchmarks, `factory init`).</summary>
    Task WaitForReadyAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default);
}
