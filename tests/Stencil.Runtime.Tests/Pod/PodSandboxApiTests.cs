using Stencil.Runtime.Configuration;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// The pod runtime as containerd 2.x's sandbox API drives it (`sandboxer = "shim"`), above its seams: a fake
/// VM provider, agent and network. The VM is the sandbox: it starts at StartSandbox, outlives the pod's
/// containers and stops at StopSandbox. (The same through containerd is StencilSandboxApiTests.)
/// </summary>
[Trait("Category", "Unit")]
public sealed class PodSandboxApiTests : IAsyncLifetime
{
    private const string Netns = "/var/run/netns/cni-test";
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-sandboxapi-").FullName;
    private readonly FakePodVmProvider _vms = new();
    private readonly FakePodNetwork _network = new();
    private PodRuntime _runtime = null!;

    private StatePaths Paths => new(Path.Combine(_dir, "state"));

    public Task InitializeAsync()
    {
        _runtime = new PodRuntime(new PodRuntimeOptions("k8s.io", "pod1", Paths) { OutputDrainTimeout = TimeSpan.Zero, StartHolder = false }, _vms, new RecordingMounter(),
            NullLog.Instance, _network);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static SandboxRequest Request(string id = "pod1", string? netns = Netns, PodNamespaceMode pid = PodNamespaceMode.Container,
        PodNamespaceMode ipc = PodNamespaceMode.Pod, bool userns = false) =>
        new(id, "/run/containerd/sandbox/pod1", netns, "web-0", ["10.96.0.10"], ["default.svc.cluster.local"], ["ndots:5"],
            new Dictionary<string, string> { ["net.ipv4.ip_local_port_range"] = "40000 50000" }, new Dictionary<string, string>(),
            pid, ipc, userns);

    private CreateContainerRequest Container(string id)
    {
        var bundle = Path.Combine(_dir, "bundles", id);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        File.WriteAllText(Path.Combine(bundle, "config.json"), $$"""
            {
              "ociVersion": "1.2.1",
              "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
              "root": { "path": "rootfs" },
              "annotations": { "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "pod1" },
              "linux": { "namespaces": [ { "type": "mount" }, { "type": "pid" },
                { "type": "ipc", "path": "/proc/4242/ns/ipc" }, { "type": "uts", "path": "/proc/4242/ns/uts" },
                { "type": "network", "path": "/proc/4242/ns/net" } ] }
            }
            """);
        return new CreateContainerRequest(id, bundle, [], new StdioPaths("", "", "", false));
    }

    private async Task<SandboxStarted> StartAsync()
    {
        await _runtime.CreateSandboxAsync(Request(), CancellationToken.None);
        return await _runtime.StartSandboxAsync("pod1", CancellationToken.None);
    }

    [Fact]
    public async Task StartSandbox_starts_the_VM_with_the_pods_network_and_config_before_any_container()
    {
        await _runtime.CreateSandboxAsync(Request(), CancellationToken.None);
        Assert.Empty(_vms.Started); // Create starts nothing

        var started = await _runtime.StartSandboxAsync("pod1", CancellationToken.None);

        Assert.Equal(4242u, started.Pid); // QEMU's pid: the sandbox process on the host
        var vm = Assert.Single(_vms.Started);
        Assert.Equal([$"attach {Netns}"], _network.Calls);
        var sandbox = vm.FakeAgent.Sandbox!;
        Assert.Equal(("pod1", "web-0"), (sandbox.SandboxId, sandbox.Hostname));
        Assert.Equal(["10.96.0.10"], sandbox.DnsServers!);
        Assert.Equal(["default.svc.cluster.local"], sandbox.DnsSearch!);
        Assert.Equal(["ndots:5"], sandbox.DnsOptions!);
        // No pause container: the agent holds the pod's namespaces and sets its sysctls.
        Assert.Equal("40000 50000", sandbox.PodNamespaces!.Sysctls["net.ipv4.ip_local_port_range"]);
        var status = _runtime.SandboxStatus("pod1", verbose: true);
        Assert.True(status.Ready);
        Assert.Equal("fake", status.Info["vm_origin"]);
        Assert.Equal(1, _runtime.ContainerCount); // the sandbox holds the pod
    }

    [Fact]
    public async Task Containers_join_the_running_VM_and_the_last_one_going_keeps_it()
    {
        await StartAsync();
        var vm = Assert.Single(_vms.Started);

        await _runtime.CreateAsync(Container("c1"), CancellationToken.None);
        vm.FakeAgent.Exit("c1", null, 0);
        await _runtime.WaitAsync("c1", null, CancellationToken.None);
        await _runtime.DeleteAsync("c1", null, CancellationToken.None);

        Assert.Single(_vms.Started);
        Assert.False(vm.Disposed, "deleting the pod's last container stopped the sandbox's VM");
        Assert.Contains("RemoveContainer c1", vm.FakeAgent.Calls);
        Assert.Equal(1, _runtime.ContainerCount);
        Assert.True(_runtime.SandboxStatus("pod1", verbose: false).Ready);
    }

    [Fact]
    public async Task StopSandbox_stops_the_VM_releases_the_network_and_ends_Wait_with_0()
    {
        await StartAsync();
        var vm = Assert.Single(_vms.Started);
        var wait = _runtime.WaitSandboxAsync("pod1", CancellationToken.None);
        Assert.False(wait.IsCompleted);

        await _runtime.StopSandboxAsync("pod1", CancellationToken.None);

        Assert.True(vm.Disposed);
        Assert.Equal([$"attach {Netns}", $"detach {Netns}"], _network.Calls); // before Stop answers: CNI goes next
        var exit = await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0u, exit.ExitCode);
        Assert.False(_runtime.SandboxStatus("pod1", verbose: false).Ready);
        await _runtime.StopSandboxAsync("pod1", CancellationToken.None); // again: nothing to do, no error

        await _runtime.ShutdownSandboxAsync("pod1", CancellationToken.None);
        Assert.Equal(0, _runtime.ContainerCount); // the shim may exit
    }

    [Fact]
    public async Task A_VM_that_dies_ends_the_sandbox_with_255()
    {
        await StartAsync();
        var vm = Assert.Single(_vms.Started);

        vm.Die("qemu exited with code 137: killed");

        var exit = await _runtime.WaitSandboxAsync("pod1", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(255u, exit.ExitCode);
        Assert.False(_runtime.SandboxStatus("pod1", verbose: false).Ready);
    }

    [Fact]
    public async Task Shutdown_without_Stop_stops_the_VM()
    {
        await StartAsync();
        var vm = Assert.Single(_vms.Started);

        await _runtime.ShutdownSandboxAsync("pod1", CancellationToken.None);

        Assert.True(vm.Disposed);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.Equal(0u, (await _runtime.WaitSandboxAsync("pod1", CancellationToken.None)).ExitCode);
    }

    [Fact]
    public async Task A_VM_that_fails_to_start_fails_StartSandbox_and_leaves_nothing()
    {
        _vms.Failure = StencilException.Unavailable("qemu exited with code 1: no memory");
        await _runtime.CreateSandboxAsync(Request(), CancellationToken.None);

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.StartSandboxAsync("pod1", CancellationToken.None));

        Assert.Contains("no memory", e.Message);
        Assert.Equal(255u, (await _runtime.WaitSandboxAsync("pod1", CancellationToken.None)).ExitCode);
        Assert.Equal(PodState.Empty, _runtime.PodState);
        Assert.False(Directory.Exists(Paths.PodDir("k8s.io", "pod1")));
        Assert.Equal(ErrorKind.FailedPrecondition,
            (await Assert.ThrowsAsync<StencilException>(() => _runtime.StartSandboxAsync("pod1", CancellationToken.None))).Kind);
    }

    public static TheoryData<string, SandboxRequest, ErrorKind, string> Refused => new()
    {
        { "host network", Request(netns: null), ErrorKind.Unimplemented, "host network is not supported by a VM runtime" },
        { "relative netns", Request(netns: "netns/x"), ErrorKind.InvalidArgument, "is not absolute" },
        { "hostPID", Request(pid: PodNamespaceMode.Node), ErrorKind.Unimplemented, "host PID namespace is not supported" },
        { "hostIPC", Request(ipc: PodNamespaceMode.Node), ErrorKind.Unimplemented, "host IPC namespace is not supported" },
        { "user namespace", Request(userns: true), ErrorKind.Unimplemented, "user namespace" },
        { "another pod's id", Request(id: "pod2"), ErrorKind.InvalidArgument, "does not belong to this shim" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task What_a_VM_cannot_give_is_refused_at_CreateSandbox_and_nothing_starts(string what, SandboxRequest request, ErrorKind kind, string text)
    {
        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateSandboxAsync(request, CancellationToken.None));

        Assert.True(e.Kind == kind, $"{what}: {e.Kind}: {e.Message}");
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.Empty(_vms.Started);
        Assert.Equal(0, _runtime.ContainerCount);
        if (request.Id == "pod1")
            await _runtime.ShutdownSandboxAsync("pod1", CancellationToken.None); // containerd's cleanup: the shim may go
    }

    [Fact]
    public async Task Calls_for_an_unknown_sandbox_are_NotFound_and_a_second_create_AlreadyExists()
    {
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<StencilException>(() => _runtime.SandboxStatus("pod1", false)).Kind);
        await _runtime.CreateSandboxAsync(Request(), CancellationToken.None);
        Assert.Equal(ErrorKind.NotFound, (await Assert.ThrowsAsync<StencilException>(() => _runtime.StopSandboxAsync("other", CancellationToken.None))).Kind);
        Assert.Equal(ErrorKind.AlreadyExists, (await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateSandboxAsync(Request(), CancellationToken.None))).Kind);
    }
}
