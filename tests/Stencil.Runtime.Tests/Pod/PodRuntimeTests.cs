using Stencil.Runtime.Configuration;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// The pod runtime's logic above its seams: a fake VM provider and agent, a mounter that records, and
/// real bundles and state folders in a scratch directory. (The same paths through QEMU and containerd
/// are the end-to-end tests'.)
/// </summary>
[Trait("Category", "Unit")]
public sealed class PodRuntimeTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-podruntime-").FullName;
    private readonly FakePodVmProvider _vms = new();
    private readonly RecordingMounter _mounter = new();
    private PodRuntime _runtime = null!;

    private StatePaths Paths => new(Path.Combine(_dir, "state"));

    private string PodDir => Paths.PodDir("default", "pod1");

    public Task InitializeAsync()
    {
        _runtime = new PodRuntime(new PodRuntimeOptions("default", "pod1", Paths) { OutputDrainTimeout = TimeSpan.Zero, StartHolder = false }, _vms, _mounter, NullLog.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private CreateContainerRequest Request(string id)
    {
        var bundle = PodTestBundle.Write(_dir, id);
        return new CreateContainerRequest(id, bundle, [], new StdioPaths("", "", "", false));
    }

    private FakePodVm OnlyVm => Assert.Single(_vms.Started);

    [Fact]
    public async Task The_first_create_starts_the_VM_and_the_sandbox_and_registers_the_container()
    {
        var pid = await _runtime.CreateAsync(Request("c1"), CancellationToken.None);

        Assert.NotEqual(0u, pid);
        Assert.Equal(PodState.Ready, _runtime.PodState);
        Assert.Equal(1, _runtime.ContainerCount);
        Assert.Equal(["CreateSandbox pod1", "CreateContainer c1"], OnlyVm.FakeAgent.Calls.Where(c => !c.StartsWith("Wait", StringComparison.Ordinal)));
        var rootfs = Paths.ContainerRootfs("default", "pod1", "c1");
        Assert.Contains(_mounter.Mounts, m => m.Target == rootfs && m.Mount.Options.Contains("rbind"));
    }

    [Fact]
    public async Task A_kill_whose_VM_link_closes_under_it_answers_that_the_process_already_finished()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        await _runtime.StartAsync("c1", null, CancellationToken.None);
        OnlyVm.FakeAgent.OnSignalProcess = () => OnlyVm.FakeAgent.Break("client disposed");

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.KillAsync("c1", null, 9, false, CancellationToken.None));

        Assert.Equal(ErrorKind.NotFound, e.Kind); // containerd's errdefs.NotFound: the kill is done
        Assert.Contains("process already finished", e.Message);
        Assert.Contains("client disposed", e.Message);
    }

    [Fact]
    public async Task A_create_the_agent_refuses_is_rolled_back_and_the_idle_VM_stops()
    {
        _vms.OnStart = vm => vm.FakeAgent.OnCreateContainer = _ => throw StencilException.FailedPrecondition("crun create failed: boom");

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.Equal("crun create failed: boom", e.Message);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.True(OnlyVm.Disposed, "the idle VM was not stopped");
        Assert.Equal(PodState.Empty, _runtime.PodState);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
        Assert.Equal(ErrorKind.NotFound, (await Assert.ThrowsAsync<StencilException>(() => _runtime.StartAsync("c1", null, CancellationToken.None))).Kind);
    }

    [Fact]
    public async Task A_failed_host_mount_is_rolled_back_before_the_guest_hears_of_the_container()
    {
        _mounter.Failure = StencilException.Internal("mount overlay: operation not permitted");

        await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.DoesNotContain(OnlyVm.FakeAgent.Calls, c => c.StartsWith("CreateContainer", StringComparison.Ordinal));
        Assert.True(OnlyVm.Disposed);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task A_VM_that_fails_to_start_leaves_nothing_and_a_later_create_tries_again()
    {
        _vms.Failure = StencilException.Unavailable("qemu exited with code 1: no memory");

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.Contains("no memory", e.Message);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.Equal(PodState.Empty, _runtime.PodState);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");

        _vms.Failure = null;
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        Assert.Equal(PodState.Ready, _runtime.PodState);
    }

    [Fact]
    public async Task The_VM_dying_during_a_create_fails_it_and_leaves_nothing()
    {
        _vms.OnStart = vm => vm.FakeAgent.OnCreateContainer = _ =>
        {
            vm.Die("qemu exited with code 137: killed");
            throw StencilException.Unavailable("the agent connection closed");
        };

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.Equal(PodState.Empty, _runtime.PodState);
        Assert.True(OnlyVm.Disposed);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task A_VM_that_dies_under_running_containers_exits_them_and_fails_the_pod_until_they_are_deleted()
    {
        var events = _runtime.Events.GetAsyncEnumerator();
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        await _runtime.StartAsync("c1", null, CancellationToken.None);

        OnlyVm.Die("qemu exited with code 1: guest panic");
        var exit = await _runtime.WaitAsync("c1", null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(255u, exit.ExitCode);
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Failed);
        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.PauseAsync("c1", CancellationToken.None));
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind); // the process is stopped: nothing to pause
        var exec = await Assert.ThrowsAsync<StencilException>(() => _runtime.PidsAsync("c1", CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, exec.Kind);
        Assert.Equal("the VM of pod pod1 is gone: qemu exited with code 1: guest panic", exec.Message);
        var another = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c2"), CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, another.Kind);

        await _runtime.DeleteAsync("c1", null, CancellationToken.None);
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Empty); // the teardown runs in the background
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
        var topics = new List<string>();
        while (topics.Count < 4 && await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)))
            topics.Add(events.Current.GetType().Name);
        Assert.Equal(["TaskCreated", "TaskStarted", "TaskExited", "TaskDeleted"], topics);
    }

    [Fact]
    public async Task An_OOM_kill_in_the_guest_is_published_for_a_container_of_the_pod_and_dropped_for_any_other_id()
    {
        var events = _runtime.Events.GetAsyncEnumerator();
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        await _runtime.StartAsync("c1", null, CancellationToken.None);

        var agent = OnlyVm.FakeAgent;
        agent.ReportOomKill("not-in-this-pod\n");
        agent.ReportOomKill("c1");
        var seen = new List<RuntimeEvent>();
        while (seen.Count < 3 && await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)))
            seen.Add(events.Current);

        Assert.Equal(["TaskCreated", "TaskStarted", "TaskOom"], seen.Select(e => e.GetType().Name));
        Assert.Equal("c1", Assert.IsType<TaskOom>(seen[2]).ContainerId);
    }

    [Fact]
    public async Task Deleting_the_last_container_stops_the_VM_and_removes_the_pod_folders()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        await _runtime.CreateAsync(Request("c2"), CancellationToken.None);
        Assert.Single(_vms.Started);

        await _runtime.DeleteAsync("c1", null, CancellationToken.None);
        Assert.False(OnlyVm.Disposed, "the VM stopped while a container was left");
        Assert.Contains("RemoveContainer c1", OnlyVm.FakeAgent.Calls);

        await _runtime.DeleteAsync("c2", null, CancellationToken.None);
        // The last one: its Delete does not wait for the VM, which is killed in the background, and it is
        // not removed in the guest first (the VM goes with it).
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Empty);
        Assert.True(OnlyVm.Disposed);
        Assert.DoesNotContain("RemoveContainer c2", OnlyVm.FakeAgent.Calls);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task Disposing_the_runtime_waits_for_a_teardown_still_running()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        OnlyVm.DisposeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await _runtime.DeleteAsync("c1", null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(PodState.Stopping, _runtime.PodState);
        var dispose = _runtime.DisposeAsync().AsTask();
        await Task.Delay(100);
        Assert.False(dispose.IsCompleted, "the runtime was disposed while its VM was still being stopped");

        OnlyVm.DisposeGate.SetResult();
        await dispose.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(OnlyVm.Disposed);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task Concurrent_creates_share_one_VM()
    {
        _vms.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var creates = Enumerable.Range(1, 4).Select(i => _runtime.CreateAsync(Request($"c{i}"), CancellationToken.None)).ToList();
        await PodTestBundle.Eventually(() => _vms.StartCalls == 1);
        _vms.Gate.SetResult();

        await Task.WhenAll(creates).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, _vms.StartCalls);
        Assert.Equal(4, _runtime.ContainerCount);
        Assert.Single(OnlyVm.FakeAgent.Calls, c => c.StartsWith("CreateSandbox", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_create_of_one_id_is_AlreadyExists_and_a_disposed_runtime_creates_nothing()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));
        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);

        await _runtime.DisposeAsync();
        Assert.True(OnlyVm.Disposed);
        Assert.Equal(PodState.Stopped, _runtime.PodState);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _runtime.CreateAsync(Request("c2"), CancellationToken.None));
    }

    private async Task<FakePodVm> WaitForVmAsync()
    {
        await PodTestBundle.Eventually(() => _vms.Started.Count > 0);
        lock (_vms.Started)
            return _vms.Started[^1];
    }
}
