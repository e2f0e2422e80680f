using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// The in-process pool: one background task keeps <see cref="Size"/> paused clones ready, making one
/// at a time (a clone's restore competes for the same CPUs as the pods). A take hands over the
/// oldest ready clone and wakes the filler. When making a clone fails (no template, QEMU refusing),
/// the filler backs off (1 s doubling up to 60 s) and logs why; takes meanwhile return null and the
/// factory clones or boots directly. Clones come from an <see cref="IPooledCloneSource"/>: the pool
/// does not know the factory.
/// </summary>
internal sealed class VmPool : IVmPool
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(60);

    private readonly IPooledCloneSource _source;
    private readonly string _directory;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private readonly Queue<PooledClone> _ready = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _filler;
    private readonly TimeSpan _refillDelay;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastTakeTicks;
    private int _disposed;

    /// <param name="refillDelay">After a take, how long to wait before making the next clone (the pod that took one needs the CPUs now).</param>
    public VmPool(IPooledCloneSource source, int size, string directory, ILog log, TimeSpan refillDelay = default)
    {
        _source = source;
        Size = size;
        _directory = directory;
        _log = log;
        _refillDelay = refillDelay;
        _filler = Task.Run(FillAsync);
    }

    public int Size { get; }

    public int ReadyCount
    {
        get
        {
            lock (_gate)
                return _ready.Count;
        }
    }

    /// <summary>The paused clones waiting (tests).</summary>
    internal IReadOnlyList<QemuVm> ReadyVms
    {
        get
        {
            lock (_gate)
                return [.. _ready.Select(c => c.Vm)];
        }
    }

    public async Task<FactoryVm?> TryTakeAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        while (await TryTakeCloneAsync(null).ConfigureAwait(false) is { } clone)
        {
            try
            {
                var vm = await _source.HandOverAsync(clone, request, cancellationToken).ConfigureAwait(false);
                _log.Info($"{request.Name}: handed clone {clone.Vm.Name} over from the pool in {vm.StartupTime.TotalMilliseconds:F0} ms");
                return vm;
            }
            catch (StencilException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // HandOverAsync has disposed the clone; the next one may be fine.
                _log.Warning($"pool: handing over clone {clone.Vm.Name} failed: {ex.Message}");
            }
        }
        return null;
    }

    /// <summary>
    /// The oldest ready clone, still paused and (when <paramref name="fingerprint"/> is given) of that
    /// template; the caller owns it. Clones found dead or stale on the way are discarded. Null when
    /// none is ready: nobody waits for a clone to be made. Wakes the filler.
    /// </summary>
    internal async Task<PooledClone?> TryTakeCloneAsync(string? fingerprint)
    {
        while (true)
        {
            PooledClone? clone;
            lock (_gate)
            {
                if (_disposed != 0 || !_ready.TryDequeue(out clone))
                    return null;
            }
            Volatile.Write(ref _lastTakeTicks, Environment.TickCount64);
            _wake.Release();
            if (clone.Vm.State != VmState.Paused)
            {
                _log.Warning($"pool: clone {clone.Vm.Name} is {clone.Vm.State}, not paused; discarding it");
                await clone.DiscardAsync(_log).ConfigureAwait(false);
                continue;
            }
            if (fingerprint is not null && clone.Template.Fingerprint != fingerprint)
            {
                _log.Info($"pool: clone {clone.Vm.Name} is of template {clone.Template.Fingerprint}, not the current {fingerprint}; discarding it");
                await clone.DiscardAsync(_log).ConfigureAwait(false);
                continue;
            }
            return clone;
        }
    }

    /// <summary>Discards every ready clone not of template <paramref name="fingerprint"/> (the template changed); the filler makes new ones.</summary>
    internal async Task<int> DiscardStaleAsync(string fingerprint)
    {
        var stale = RemoveReady(c => c.Template.Fingerprint != fingerprint);
        if (stale.Count == 0)
            return 0;
        foreach (var clone in stale)
        {
            _wake.Release();
            await clone.DiscardAsync(_log).ConfigureAwait(false);
        }
        _log.Info($"pool: discarded {stale.Count} clone(s) of an older template; refilling from template {fingerprint}");
        return stale.Count;
    }

    public async Task WaitForReadyAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (count > Size)
            throw StencilException.InvalidArgument($"waiting for {count} ready clones, but the pool holds {Size}");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_ready.Count >= count)
                    return;
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StencilException(ErrorKind.DeadlineExceeded, $"the pool had {ReadyCount} of {count} clones ready after {timeout.TotalSeconds:0.#} s");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _filler.ConfigureAwait(false);
        List<PooledClone> left;
        lock (_gate)
        {
            left = [.. _ready];
            _ready.Clear();
        }
        foreach (var clone in left)
            await clone.DiscardAsync(_log).ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    /// <summary>Takes the ready clones <paramref name="match"/> selects out of the queue (the others keep their order).</summary>
    private List<PooledClone> RemoveReady(Func<PooledClone, bool> match)
    {
        lock (_gate)
        {
            var removed = _ready.Where(match).ToList();
            if (removed.Count > 0)
            {
                var keep = _ready.Where(c => !match(c)).ToList();
                _ready.Clear();
                foreach (var c in keep)
                    _ready.Enqueue(c);
            }
            return removed;
        }
    }

    /// <summary>A clone whose QEMU dies while it waits is taken out at once and replaced, not found dead at the next take.</summary>
    private async Task DiscardIfItDiesAsync(PooledClone clone)
    {
        await clone.Vm.Exited.ConfigureAwait(false);
        if (RemoveReady(c => ReferenceEquals(c, clone)).Count == 0)
            return; // taken or discarded meanwhile
        _log.Warning($"pool: clone {clone.Vm.Name} died while it waited ({clone.Vm.ExitReason?.ToString() ?? "qemu exited"}); discarding it");
        await clone.DiscardAsync(_log).ConfigureAwait(false);
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task FillAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (ReadyCount >= Size)
                {
                    await _wake.WaitAsync(token).ConfigureAwait(false);
                    continue;
                }
                var sinceTake = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastTakeTicks));
                if (_refillDelay > TimeSpan.Zero && sinceTake < _refillDelay)
                {
                    // A pod just took a clone and is starting its containers: leave it the CPUs for a moment.
                    await Task.Delay(_refillDelay - sinceTake, token).ConfigureAwait(false);
                    continue;
                }
                var clone = await _source.MakeAsync(_directory, token).ConfigureAwait(false);
                TaskCompletionSource changed;
                _ = DiscardIfItDiesAsync(clone);
                lock (_gate)
                {
                    _ready.Enqueue(clone);
                    changed = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                changed.TrySetResult();
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
            {
                _log.Warning($"pool: could not prepare a clone (retrying in {backoff.TotalSeconds:0} s): {ex.Message}");
                try
                {
                    await Task.Delay(backoff, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
            }
        }
    }
}
