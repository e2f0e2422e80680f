using System.Text;
using Stencil.Agent.Tests.Unit.Fakes;
using Stencil.Agent.Tests.Vm;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>CreateContainer: what reaches the runtime, and that a failed creation leaves nothing behind. Against fakes: no VM, no crun, no mounts.</summary>
[Trait("Category", "Unit")]
public class ContainerManagerCreateTests
{
    private readonly ContainerManagerHarness _h = new();

    [Fact]
    public async Task Create_runs_the_runtime_in_the_bundle_and_registers_the_container()
    {
        var pid = await _h.CreateAsync();

        Assert.Equal(100, pid);
        Assert.Equal([$"create --bundle {Bundle} --pid-file {Bundle}/init.pid c1"], _h.Crun.Calls);
        Assert.Contains("\"path\":\"/run/stencil/containers/c1/rootfs\"", _h.Syscalls.Files[$"{Bundle}/config.json"]);
        Assert.Equal([$"{Bundle}/rootfs"], _h.Syscalls.Mounted);
        Assert.Equal(Cgroup, _h.Oom.Watched["c1"]);
        Assert.Equal(1, _h.Manager.Count);
        Assert.Equal(100, _h.Manager.Process("c1", "").Pid);
    }

    [Fact]
    public async Task Create_fails_when_the_runtime_fails_and_leaves_nothing_registered()
    {
        _h.Crun.Failing.Add("create");

        await AssertFailsAsync(ErrorKind.Internal, "crun create c1 failed: simulated failure",
            () => _h.CreateAsync());
        Assert.Equal(0, _h.Manager.Count);
        Assert.Empty(_h.Syscalls.Mounted);
        Assert.False(_h.Syscalls.DirectoryExists(Bundle));
        Assert.Empty(_h.Oom.Watched);
        // The id is free again.
        _h.Crun.Failing.Clear();
        Assert.Equal(100, await _h.CreateAsync());
    }

    [Fact]
    public async Task Create_with_a_terminal_that_the_runtime_fails_closes_the_console_socket()
    {
        _h.Crun.Failing.Add("create");

        await Assert.ThrowsAsync<StencilException>(() => _h.CreateAsync(terminal: true));

        var socket = Assert.Single(_h.Syscalls.ConsoleSockets);
        Assert.True(socket.Disposed);
        Assert.Equal([$"create --bundle {Bundle} --pid-file {Bundle}/init.pid --console-socket {socket.Path} c1"], _h.Crun.Calls);
        Assert.Equal(0, _h.Manager.Count);
    }

    [Fact]
    public async Task Create_of_a_taken_id_is_AlreadyExists()
    {
        await _h.CreateAsync();

        await AssertFailsAsync(ErrorKind.AlreadyExists, "container \"c1\" already exists",
            () => _h.CreateAsync());
        Assert.Single(_h.Crun.Calls);
    }

    [Fact]
    public async Task Create_over_a_left_over_bundle_is_refused_and_keeps_that_folder()
    {
        _h.Syscalls.CreateDirectory(Bundle);

        await AssertFailsAsync(ErrorKind.AlreadyExists, $"{Bundle} is left over from an earlier container \"c1\"",
            () => _h.CreateAsync());
        Assert.True(_h.Syscalls.DirectoryExists(Bundle));
        Assert.Empty(_h.Crun.Calls);
    }

    [Fact]
    public async Task Create_with_a_runtime_the_guest_lacks_names_the_ones_it_has()
    {
        await AssertFailsAsync(ErrorKind.InvalidArgument, "oci_runtime \"runc\" is not in the guest (it has crun)",
            () => _h.Manager.CreateAsync("c1", TestSpecs.SpecJson(["true"]), Rootfs, [], "runc", CancellationToken.None));
        Assert.Equal(0, _h.Manager.Count);
    }

    [Fact]
    public async Task A_network_sysctl_the_guest_refuses_fails_the_create_before_the_runtime_runs()
    {
        var spec = TestSpecs.Spec(["true"]);
        spec["linux"]!["sysctl"] = new System.Text.Json.Nodes.JsonObject { ["net.ipv4.ip_forward"] = "1" };
        _h.Syscalls.UnwritableFiles.Add("/proc/sys/net/ipv4/ip_forward");

        await AssertFailsAsync(ErrorKind.InvalidArgument, "sysctl /proc/sys/net/ipv4/ip_forward = \"1\" cannot be set in the guest: Invalid argument",
            () => _h.Manager.CreateAsync("c1", Encoding.UTF8.GetBytes(spec.ToJsonString()), Rootfs, [], "", CancellationToken.None));
        Assert.Empty(_h.Crun.Calls);
        Assert.Equal(0, _h.Manager.Count);
        Assert.Empty(_h.Syscalls.Mounted);
        Assert.False(_h.Syscalls.DirectoryExists(Bundle));
    }
}
