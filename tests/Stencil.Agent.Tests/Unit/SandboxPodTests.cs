using System.Text;
using Stencil.Agent.Guest;
using Stencil.Agent.Pod;
using Stencil.Agent.Tests.Unit.Fakes;
using Stencil.Oci;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>
/// A sandbox created with pod namespaces: the holder, the sysctls, the pod's files, and the containers
/// that join them. The holder and /proc/sys are fakes; the pod's files go to a scratch folder.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SandboxPodTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("stencil-test-pod-").FullName;
    private readonly FakePodSyscalls _pod = new();
    private readonly Sandbox _sandbox;

    public SandboxPodTests() => _sandbox = new Sandbox(_pod, FilesDir, Path.Combine(_scratch, "guest-resolv.conf"));

    private string FilesDir => Path.Combine(_scratch, "pod");

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static SandboxSettings Settings(IReadOnlyList<Sysctl>? sysctls, params string[] dnsServers) =>
        new("pod1", "web", dnsServers, ["svc.cluster.local"], [], null, "", 0) { PodSysctls = sysctls };

    [Fact]
    public async Task Create_writes_network_sysctls_starts_the_holder_with_the_ipc_ones_and_writes_the_pod_files()
    {
        await _sandbox.CreateAsync(Settings([new("kernel.shmmax", "65536"), new("net.ipv4.ip_unprivileged_port_start", "80")], "10.96.0.10"),
            CancellationToken.None);

        Assert.Equal(["write /proc/sys/net/ipv4/ip_unprivileged_port_start 80", "start holder \"web\" kernel.shmmax=65536"], _pod.Calls);
        Assert.Equal(new PodState("pod1", FakePodSyscalls.HolderPid, FilesDir), _sandbox.Pod);
        Assert.Equal("web\n", File.ReadAllText(Path.Combine(FilesDir, "hostname")));
        Assert.Contains("127.0.1.1\tweb\n", File.ReadAllText(Path.Combine(FilesDir, "hosts")));
        Assert.Equal("search svc.cluster.local\nnameserver 10.96.0.10\n", File.ReadAllText(Path.Combine(FilesDir, "resolv.conf")));
    }

    [Fact]
    public async Task Without_dns_settings_the_pods_resolv_conf_is_the_guests()
    {
        File.WriteAllText(Path.Combine(_scratch, "guest-resolv.conf"), "nameserver 10.0.2.3\n");

        await _sandbox.CreateAsync(new SandboxSettings("pod1", "web", [], [], [], null, "", 0) { PodSysctls = [] }, CancellationToken.None);

        Assert.Equal("nameserver 10.0.2.3\n", File.ReadAllText(Path.Combine(FilesDir, "resolv.conf")));
    }

    [Fact]
    public async Task A_sysctl_of_no_namespace_fails_the_create_before_anything_is_started()
    {
        await AssertFailsAsync(ErrorKind.InvalidArgument, "sysctl \"vm.swappiness\" is not in a separate kernel namespace",
            () => _sandbox.CreateAsync(Settings([new("net.core.somaxconn", "1024"), new("vm.swappiness", "10")]), CancellationToken.None));

        Assert.Empty(_pod.Calls);
        Assert.Null(_sandbox.Pod);
        Assert.False(Directory.Exists(FilesDir));
    }

    [Fact]
    public async Task A_failed_holder_fails_the_create_and_leaves_no_sandbox()
    {
        _pod.HolderFailure = StencilException.Internal("the pod's namespace holder failed: unshare(CLONE_NEWPID): Operation not permitted (errno 1)");

        await AssertFailsAsync(ErrorKind.Internal, "the pod's namespace holder failed: unshare(CLONE_NEWPID): Operation not permitted (errno 1)",
            () => _sandbox.CreateAsync(Settings([]), CancellationToken.None));
        Assert.Null(_sandbox.Pod);
        Assert.False(Directory.Exists(FilesDir));

        _pod.HolderFailure = null;
        await _sandbox.CreateAsync(Settings([]), CancellationToken.None);
        Assert.NotNull(_sandbox.Pod);
    }

    [Fact]
    public async Task Destroy_kills_the_holder_and_deletes_the_pod_files()
    {
        await _sandbox.CreateAsync(Settings([]), CancellationToken.None);

        await _sandbox.DestroyAsync();

        Assert.Equal($"stop holder {FakePodSyscalls.HolderPid}", _pod.Calls[^1]);
        Assert.Null(_sandbox.Pod);
        Assert.False(Directory.Exists(FilesDir));
    }

    [Fact]
    public async Task A_pod_container_joins_the_holders_namespaces_and_gets_the_pod_mounts()
    {
        await _sandbox.CreateAsync(Settings([]), CancellationToken.None);
        var h = new ContainerManagerHarness(_sandbox);
        var spec = TestSpecsFor("pod1", "ipc,uts,pid");

        await h.Manager.CreateAsync("c1", spec, Rootfs, [], "", CancellationToken.None);

        var config = h.Syscalls.Files[$"{ContainerManagerHarness.Bundle}/config.json"];
        Assert.Contains("{\"type\":\"pid\",\"path\":\"/proc/4242/ns/pid\"}", config);
        Assert.Contains("{\"type\":\"ipc\",\"path\":\"/proc/4242/ns/ipc\"}", config);
        Assert.Contains("{\"type\":\"uts\",\"path\":\"/proc/4242/ns/uts\"}", config);
        Assert.Contains($"\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"{FilesDir}/resolv.conf\"", config);
        Assert.Contains("\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/run/stencil/ephemeral/shm\"", config);
        Assert.Equal(["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"], h.Syscalls.EphemeralVolumes["shm"]);
    }

    [Fact]
    public async Task A_container_joins_only_the_namespaces_the_annotation_lists()
    {
        await _sandbox.CreateAsync(Settings([]), CancellationToken.None);
        var h = new ContainerManagerHarness(_sandbox);

        await h.Manager.CreateAsync("c1", TestSpecsFor("pod1", "ipc,uts"), Rootfs, [], "", CancellationToken.None);

        var config = h.Syscalls.Files[$"{ContainerManagerHarness.Bundle}/config.json"];
        Assert.Contains("{\"type\":\"pid\"}", config);
        Assert.Contains("{\"type\":\"ipc\",\"path\":\"/proc/4242/ns/ipc\"}", config);
    }

    [Fact]
    public async Task A_container_of_another_sandbox_joins_nothing_and_gets_no_pod_mounts()
    {
        await _sandbox.CreateAsync(Settings([]), CancellationToken.None);
        var h = new ContainerManagerHarness(_sandbox);

        await h.Manager.CreateAsync("c1", TestSpecsFor("pod2", "ipc,uts,pid"), Rootfs, [], "", CancellationToken.None);

        var config = h.Syscalls.Files[$"{ContainerManagerHarness.Bundle}/config.json"];
        Assert.DoesNotContain("/proc/4242", config);
        Assert.DoesNotContain("/etc/hosts", config);
        Assert.Empty(h.Syscalls.EphemeralVolumes);
    }

    [Fact]
    public async Task Without_pod_namespaces_a_container_keeps_its_own_namespaces_and_mounts()
    {
        var h = new ContainerManagerHarness();

        await h.Manager.CreateAsync("c1", TestSpecsFor("pod1", "ipc,uts,pid"), Rootfs, [], "", CancellationToken.None);

        var config = h.Syscalls.Files[$"{ContainerManagerHarness.Bundle}/config.json"];
        Assert.DoesNotContain("/ns/", config);
        Assert.DoesNotContain("/etc/hosts", config);
        Assert.Contains("\"destination\":\"/dev/shm\",\"type\":\"tmpfs\"", config);
    }

    /// <summary>A CRI container of <paramref name="sandboxId"/> that asks to join <paramref name="join"/>.</summary>
    private static byte[] TestSpecsFor(string sandboxId, string join)
    {
        var spec = PodMountsTests.CriSpec(sandboxId);
        spec.Annotations![StencilAnnotations.JoinSandboxNamespaces] = join;
        return SpecJson.Serialize(spec);
    }
}
