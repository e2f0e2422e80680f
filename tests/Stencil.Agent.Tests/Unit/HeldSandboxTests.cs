using Stencil.Agent.Containers;
using Stencil.Agent.Guest;
using Stencil.Agent.Tests.Unit.Fakes;
using Stencil.Oci;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>
/// A CRI sandbox (pause) container the shim marked for the agent's namespace holder: the holder stands
/// in for crun and the pause image, with the spec's hostname and IPC sysctls; the pod's containers join
/// its namespaces. The holder, /proc/sys and the runtime are fakes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HeldSandboxTests
{
    private const int Holder = FakePodSyscalls.HolderPid;
    private readonly FakePodSyscalls _pod = new();
    private readonly ContainerManagerHarness _h;

    public HeldSandboxTests() => _h = new ContainerManagerHarness(new Sandbox(_pod, "/run/stencil/pod", "/etc/resolv.conf"));

    private static byte[] SandboxSpec(bool held = true, Dictionary<string, string>? sysctls = null)
    {
        var spec = PodMountsTests.CriSpec("pod1", CriAnnotations.ContainerTypeSandbox);
        spec.Hostname = "web";
        if (held)
            spec.Annotations![StencilAnnotations.SandboxHolder] = "true";
        if (sysctls is not null)
            spec.Linux!.Sysctl = sysctls;
        return SpecJson.Serialize(spec);
    }

    /// <summary>The shim sends the pause image's root as for any container; the holder does not use it.</summary>
    private Task<int> CreateSandboxAsync(byte[] spec) =>
        _h.Manager.CreateAsync("pod1", spec, [new StorageRequest("pod1/rootfs", null, null, TimeSpan.Zero, "", [], "rootfs")], [], "", CancellationToken.None);

    [Fact]
    public async Task The_holder_serves_the_sandbox_with_its_hostname_and_sysctls_and_crun_is_not_run()
    {
        var pid = await CreateSandboxAsync(SandboxSpec(sysctls: new() { ["kernel.shmmax"] = "65536", ["net.ipv4.ip_unprivileged_port_start"] = "80" }));
        await _h.Manager.StartAsync("pod1", CancellationToken.None);

        Assert.Equal(Holder, pid);
        Assert.Equal(["start holder \"web\" kernel.shmmax=65536"], _pod.Calls);
        Assert.Equal("80", _h.Syscalls.Files["/proc/sys/net/ipv4/ip_unprivileged_port_start"]);
        Assert.Empty(_h.Crun.Calls);
        Assert.False(_h.Syscalls.Files.ContainsKey("/run/stencil/containers/pod1/config.json"));
        var (data, eof) = await _h.Manager.Process("pod1", "").Io.ReadAsync(stderr: false, 1024, CancellationToken.None);
        Assert.True(eof && data.Length == 0, "the holder has no output");
        Assert.Equal(0UL, _h.Manager.Stats("pod1").Memory.UsageBytes);
    }

    [Fact]
    public async Task The_pods_containers_join_the_holders_namespaces()
    {
        await CreateSandboxAsync(SandboxSpec());
        var app = PodMountsTests.CriSpec("pod1");
        app.Annotations![StencilAnnotations.JoinSandboxNamespaces] = "ipc,uts,pid";

        await _h.Manager.CreateAsync("c1", SpecJson.Serialize(app), Rootfs, [], "", CancellationToken.None);

        var config = _h.Syscalls.Files[$"{ContainerManagerHarness.Bundle}/config.json"];
        Assert.Contains($"{{\"type\":\"pid\",\"path\":\"/proc/{Holder}/ns/pid\"}}", config);
        Assert.Contains($"{{\"type\":\"uts\",\"path\":\"/proc/{Holder}/ns/uts\"}}", config);
    }

    [Fact]
    public async Task Kill_signals_the_holder_and_remove_ends_it_without_the_runtime()
    {
        _h.Syscalls.LivePids.Add(Holder);
        await CreateSandboxAsync(SandboxSpec());
        await _h.Manager.StartAsync("pod1", CancellationToken.None);

        await _h.Manager.SignalAsync("pod1", "", 9, all: true, CancellationToken.None);
        _h.Reaper.Exit(Holder, 137);
        await _h.Manager.WaitAsync("pod1", "", CancellationToken.None);
        await EventuallyAsync(() => _h.Manager.RemoveAsync("pod1", force: false, CancellationToken.None));

        Assert.Equal([(Holder, 9)], _h.Syscalls.Signals);
        Assert.Empty(_h.Crun.Calls);
        await AssertFailsAsync(ErrorKind.NotFound, "container \"pod1\" not found", () => _h.Manager.StartAsync("pod1", CancellationToken.None));
    }

    [Fact]
    public async Task Exec_pause_and_update_are_refused_with_the_reason()
    {
        await CreateSandboxAsync(SandboxSpec());
        await _h.Manager.StartAsync("pod1", CancellationToken.None);

        await AssertFailsAsync(ErrorKind.FailedPrecondition,
            "container pod1 is the pod's sandbox, served by the agent's namespace holder: it cannot be exec'd into",
            () => _h.Manager.ExecAsync("pod1", "e1", TestSpecsProcess(), CancellationToken.None));
        await AssertFailsAsync(ErrorKind.FailedPrecondition,
            "container pod1 is the pod's sandbox, served by the agent's namespace holder: it cannot be paused",
            () => _h.Manager.PauseAsync("pod1", CancellationToken.None));
        await AssertFailsAsync(ErrorKind.FailedPrecondition,
            "container pod1 is the pod's sandbox, served by the agent's namespace holder: it cannot be updated",
            () => _h.Manager.UpdateAsync("pod1", "{}"u8.ToArray(), CancellationToken.None));
        Assert.Empty(_h.Crun.Calls);
    }

    [Fact]
    public async Task Without_the_annotation_the_sandbox_runs_through_crun()
    {
        await CreateSandboxAsync(SandboxSpec(held: false));

        Assert.Empty(_pod.Calls);
        Assert.Single(_h.Crun.Calls);
    }

    [Fact]
    public async Task A_sysctl_of_no_namespace_fails_the_create_before_the_holder_is_taken()
    {
        await AssertFailsAsync(ErrorKind.InvalidArgument, "sysctl \"vm.swappiness\" is not in a separate kernel namespace",
            () => CreateSandboxAsync(SandboxSpec(sysctls: new() { ["vm.swappiness"] = "10" })));

        Assert.Empty(_pod.Calls);
        await AssertFailsAsync(ErrorKind.NotFound, "container \"pod1\" not found", () => _h.Manager.StartAsync("pod1", CancellationToken.None));
    }

    private static byte[] TestSpecsProcess() => "{\"args\":[\"true\"],\"cwd\":\"/\"}"u8.ToArray();
}
