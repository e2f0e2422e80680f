using Stencil.Agent.Client;
using Stencil.Factory.Internal;
using Stencil.Factory.Tests.Support;
using Stencil.Hypervisor;

namespace Stencil.Factory.Tests.Unit;

/// <summary>
/// The pool on its own, fed by a fake clone source (no factory, no template, no QEMU process): it
/// backs off when making clones fails, never hands over a clone that is not paused, and discards
/// what it holds when it stops.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VmPoolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-test-factory-pool-").FullName;
    private readonly TestLog _log = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string PoolDirectory => Path.Combine(_root, "pool");

    [Fact]
    public async Task A_pool_whose_source_fails_serves_nothing_and_backs_off_saying_why()
    {
        var source = new FakeSource(_root) { Failure = StencilException.Unavailable("no template: qemu is gone") };
        await using var pool = new VmPool(source, 2, PoolDirectory, _log);

        var timedOut = await Assert.ThrowsAsync<StencilException>(() => pool.WaitForReadyAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(ErrorKind.DeadlineExceeded, timedOut.Kind);
        Assert.Equal("the pool had 0 of 1 clones ready after 0.3 s", timedOut.Message);
        Assert.Null(await pool.TryTakeAsync(new VmRequest("pod", _root, null)));

        // 1 s, then 2 s: a failing source is not hammered.
        await WaitForLogAsync("warning: pool: could not prepare a clone (retrying in 2 s): no template: qemu is gone");
        Assert.Contains("warning: pool: could not prepare a clone (retrying in 1 s): no template: qemu is gone", _log.Lines);
        Assert.Equal(2, source.Made);
        Assert.Equal(0, pool.ReadyCount);
    }

    [Fact]
    public async Task A_clone_that_is_not_paused_is_discarded_not_handed_over()
    {
        var source = new FakeSource(_root) { Limit = 1 };
        await using var pool = new VmPool(source, 1, PoolDirectory, _log);
        await pool.WaitForReadyAsync(1, TimeSpan.FromSeconds(10));
        var clone = Assert.Single(source.Clones);
        Assert.Equal(VmState.Created, clone.Vm.State);

        Assert.Null(await pool.TryTakeAsync(new VmRequest("pod", _root, null)));
        Assert.Equal(0, source.HandedOver);
        Assert.Contains("warning: pool: clone fake-0 is Created, not paused; discarding it", _log.Lines);
        Assert.True(clone.Vm.Exited.IsCompleted);
        Assert.False(Directory.Exists(clone.Directory));
    }

    [Fact]
    public async Task After_a_take_the_pool_waits_the_refill_delay_before_making_the_next_clone()
    {
        var source = new FakeSource(_root) { Limit = 2 };
        await using var pool = new VmPool(source, 1, PoolDirectory, _log, refillDelay: TimeSpan.FromSeconds(1));
        await pool.WaitForReadyAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, source.Made);
        var taken = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await pool.TryTakeAsync(new VmRequest("pod", _root, null))); // the fake's clone is not paused: discarded, but taken
        await Task.Delay(300);
        Assert.Equal(1, source.Made);
        await pool.WaitForReadyAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(2, source.Made);
        Assert.True(taken.Elapsed >= TimeSpan.FromMilliseconds(950), $"refilled after {taken.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Stopping_the_pool_discards_the_ready_clones_and_it_serves_nothing_after()
    {
        var source = new FakeSource(_root) { Limit = 2 };
        var pool = new VmPool(source, 2, PoolDirectory, _log);
        await pool.WaitForReadyAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, pool.ReadyCount);
        Assert.Equal(2, pool.ReadyVms.Count);

        await pool.DisposeAsync();
        Assert.All(source.Clones, c => Assert.True(c.Vm.Exited.IsCompleted));
        Assert.All(source.Clones, c => Assert.False(Directory.Exists(c.Directory)));
        Assert.Null(await pool.TryTakeAsync(new VmRequest("pod", _root, null)));
        Assert.Equal(0, source.HandedOver);
    }

    [Fact]
    public async Task Waiting_for_more_clones_than_the_pool_holds_is_refused()
    {
        await using var pool = new VmPool(new FakeSource(_root) { Limit = 0 }, 2, PoolDirectory, _log);
        var ex = await Assert.ThrowsAsync<StencilException>(() => pool.WaitForReadyAsync(3, TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("waiting for 3 ready clones, but the pool holds 2", ex.Message);
    }

    private async Task WaitForLogAsync(string line)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!_log.Lines.Contains(line))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the pool never logged \"{line}\"; it logged:\n{_log.Text}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Makes clones whose QEMU was never started (state Created) in folders of their own, up to
    /// <see cref="Limit"/>, then waits until the pool stops; or fails with <see cref="Failure"/>.
    /// </summary>
    private sealed class FakeSource(string root) : IPooledCloneSource
    {
        private readonly List<PooledClone> _clones = [];
        private int _made;
        private int _handedOver;

        public Exception? Failure { get; init; }

        public int Limit { get; init; } = int.MaxValue;

        public int Made => Volatile.Read(ref _made);

        public int HandedOver => Volatile.Read(ref _handedOver);

        public IReadOnlyList<PooledClone> Clones
        {
            get
            {
                lock (_clones)
                    return [.. _clones];
            }
        }

        public async Task<PooledClone> MakeAsync(string poolDirectory, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _made) - 1;
            if (Failure is not null)
                throw Failure;
            if (n >= Limit)
                await Task.Delay(Timeout.Infinite, cancellationToken);
            var directory = Path.Combine(poolDirectory, "clone-" + n);
            var shared = Path.Combine(directory, "shared");
            Directory.CreateDirectory(shared);
            var instance = VmInstance.ForColdBoot(VmInstancePaths.InDirectory(directory)) with { Name = "fake-" + n, SharedDirectory = shared };
            var vm = QemuVm.Create(FactoryTestVm.Description(), instance);
            var clone = new PooledClone(vm, new Template("0123456789abcdef0123", Path.Combine(root, "template")), new AgentClient(new MemoryStream()),
                directory, shared);
            lock (_clones)
                _clones.Add(clone);
            return clone;
        }

        public Task<FactoryVm> HandOverAsync(PooledClone clone, VmRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _handedOver);
            throw new InvalidOperationException("the fake hands nothing over");
        }
    }
}
