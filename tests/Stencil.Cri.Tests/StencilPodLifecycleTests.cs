using System.Diagnostics;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// A pod through containerd's CRI plugin with the stencil handler: the whole kubelet sequence, one VM
/// per pod whatever the number of containers, and nothing left once the pod is removed (no QEMU, no
/// mount, no tap or filter, no state folder).
/// </summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilPodLifecycleTests(StencilCriFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(20);

    private CriClient Client => fixture.Client;

    [Fact]
    [Trait("Category", "Smoke")]
    public Task A_pod_runs_execs_reports_stats_and_logs_and_is_removed_without_leftovers() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var clock = Stopwatch.StartNew();
        var config = CriConfig.Sandbox("vm-lifecycle", fixture.LogDirectory("vm-lifecycle"));
        await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
        output.WriteLine($"RunPodSandbox: {clock.ElapsedMilliseconds} ms");
        var sandbox = await pod.StatusAsync();
        Assert.Equal(PodSandboxState.SandboxReady, sandbox.State);
        Assert.Equal(StencilCriFixture.Handler, sandbox.RuntimeHandler);
        var netns = await pod.NetworkNamespacePathAsync();
        Assert.NotNull(netns);

        var containerConfig = CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "trap 'echo stopping; exit 0' TERM; echo started; sleep 3600 & wait");
        var containerId = await pod.CreateContainerAsync(containerConfig);
        Assert.Equal(ContainerState.ContainerCreated, (await Client.ContainerStatusAsync(containerId)).State);
        await Client.StartContainerAsync(containerId);
        var running = await Client.ContainerStatusAsync(containerId);
        Assert.Equal(ContainerState.ContainerRunning, running.State);
        Assert.True(running.StartedAt > 0, "StartedAt is not set on a running container");

        var exec = await Client.ExecSyncAsync(containerId, ["sh", "-c", "echo out; echo err >&2; exit 3"], s_execTimeout);
        output.WriteLine($"first ExecSync answered: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal("out\n", exec.StdoutText);
        Assert.Equal("err\n", exec.StderrText);
        // The command ran in the guest: its kernel is the VM's, not the host's.
        var uname = await Client.ExecSyncAsync(containerId, ["uname", "-r"], s_execTimeout);
        Assert.Equal(0, uname.ExitCode);
        Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), uname.StdoutText.Trim());
        output.WriteLine($"guest kernel {uname.StdoutText.Trim()}");

        var stats = await Client.ContainerStatsAsync(containerId);
        Assert.Equal(containerId, stats.Attributes.Id);
        Assert.True(stats.Memory?.WorkingSetBytes?.Value > 0 || stats.Memory?.UsageBytes?.Value > 0,
            $"memory stats are zero: {stats.Memory}");
        output.WriteLine($"stats: memory working set {stats.Memory?.WorkingSetBytes?.Value} bytes, cpu {stats.Cpu?.UsageCoreNanoSeconds?.Value} ns");

        await Client.StopContainerAsync(containerId, TimeSpan.FromSeconds(10));
        var exited = await Client.ContainerStatusAsync(containerId);
        Assert.Equal(ContainerState.ContainerExited, exited.State);
        Assert.Equal(0, exited.ExitCode);
        Assert.Equal("Completed", exited.Reason);
        var log = await File.ReadAllTextAsync(Path.Combine(config.LogDirectory, containerConfig.LogPath));
        Assert.Contains(" stdout F started", log);
        Assert.Contains(" stdout F stopping", log);

        await pod.RemoveContainerAsync(containerId, TimeSpan.Zero);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => Client.ContainerStatusAsync(containerId))).StatusCode);
        await Client.StopPodSandboxAsync(pod.Id);
        Assert.Equal(PodSandboxState.SandboxNotready, (await pod.StatusAsync()).State);
        await pod.RemoveAsync();
        output.WriteLine($"pod removed: {clock.ElapsedMilliseconds} ms");

        Assert.False(File.Exists(netns), $"network namespace {netns} is left");
        await AssertNothingLeftAsync(pod.Id, containerId);
    });

    [Fact]
    public Task Two_containers_of_a_pod_share_one_VM() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.Sandbox("vm-two", fixture.LogDirectory("vm-two"));
        await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
        var first = await pod.RunContainerAsync(CriConfig.Container("one", CriContainerdFixture.BusyboxImage, "sh", "-c", "echo one > /tmp/mark; sleep 3600"));
        var second = await pod.RunContainerAsync(CriConfig.Container("two", CriContainerdFixture.BusyboxImage, "sleep", "3600"));

        var qemu = fixture.QemuProcesses();
        Assert.True(qemu.Count == 1, $"expected one QEMU for the pod, found {qemu.Count}:\n{string.Join('\n', qemu)}");
        // Same kernel instance: both see the same boot id.
        var a = await Client.ExecSyncAsync(first, ["cat", "/proc/sys/kernel/random/boot_id"], s_execTimeout);
        var b = await Client.ExecSyncAsync(second, ["cat", "/proc/sys/kernel/random/boot_id"], s_execTimeout);
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.StdoutText, b.StdoutText);
        // Separate root file systems all the same.
        Assert.NotEqual(0, (await Client.ExecSyncAsync(second, ["cat", "/tmp/mark"], s_execTimeout)).ExitCode);

        // One container going away keeps the VM for the rest of the pod.
        await pod.RemoveContainerAsync(first, TimeSpan.Zero);
        Assert.Equal(0, (await Client.ExecSyncAsync(second, ["true"], s_execTimeout)).ExitCode);
        Assert.Single(fixture.QemuProcesses());

        await pod.RemoveAsync();
        await AssertNothingLeftAsync(pod.Id, first, second);
    });

    /// <summary>
    /// The dense preset (config/configuration-dense.toml, based on the fixture's configuration, through the
    /// stencil-dense handler): its pod's QEMU runs with the preset's 16 MiB TCG code buffer, and a factory daemon
    /// whose pool runs with the default settings never hands it a clone (that QEMU would keep the daemon's buffer);
    /// a default pod after it still gets the pooled clone.
    /// </summary>
    [Fact]
    public Task A_dense_preset_pod_runs_with_its_own_TCG_buffer_and_never_on_a_pooled_clone_of_other_settings() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var daemon = await Stencil.TestSupport.FactoryDaemonProcess.StartAsync(fixture.ConfigPath, 1, CancellationToken.None);
        try
        {
            await daemon.WaitForReadyAsync(1, CancellationToken.None);
            var poolQemu = fixture.QemuProcesses();
            await using var dense = await CriPod.RunAsync(Client, CriConfig.Sandbox("vm-dense", fixture.LogDirectory("vm-dense")), StencilCriFixture.DenseHandler);
            var qemu = Assert.Single(fixture.QemuProcesses().Except(poolQemu));
            output.WriteLine(qemu);
            var log = fixture.Containerd.ReadLog();
            if (qemu.Contains("-accel kvm", StringComparison.Ordinal))
            {
                // Under KVM there is no code buffer: the settings are the pool's, and the clone may be handed over.
                Assert.DoesNotContain("QEMU process settings differ", log, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("-accel tcg,tb-size=16 ", qemu, StringComparison.Ordinal);
                Assert.Contains($"pod k8s.io/{dense.Id}: cloning the template here: the factory daemon had no clone: QEMU process settings differ: " +
                    $"tcg translation cache: the daemon's qemu default, pod k8s.io/{dense.Id}'s 16 MiB", log, StringComparison.Ordinal);
                Assert.DoesNotContain($"pod k8s.io/{dense.Id}: took clone ", log, StringComparison.Ordinal);
            }
            var app = await dense.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
            Assert.Equal("dense\n", (await Client.ExecSyncAsync(app, ["echo", "dense"], s_execTimeout)).StdoutText);

            // The pool's clone is still there for a pod of the daemon's own settings.
            await using var pooled = await CriPod.RunAsync(Client, CriConfig.Sandbox("vm-dense-pooled", fixture.LogDirectory("vm-dense-pooled")), StencilCriFixture.Handler);
            Assert.Contains($"pod k8s.io/{pooled.Id}: took clone ", fixture.Containerd.ReadLog(), StringComparison.Ordinal);
            await pooled.RemoveAsync();
            await dense.RemoveAsync();
        }
        finally
        {
            await daemon.DisposeAsync();
        }
        await AssertNothingLeftAsync();
    });

    private async Task AssertNothingLeftAsync(params string[] ids)
    {
        // The shim daemon exits right after its last Shutdown: give it a moment.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (fixture.StencilProcesses().Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        var processes = fixture.StencilProcesses();
        Assert.True(processes.Count == 0, "processes left:\n" + string.Join('\n', processes));
        var mounts = fixture.LeftoverMounts();
        Assert.True(mounts.Count == 0, "mounts left:\n" + string.Join('\n', mounts));
        var state = fixture.LeftoverPodState();
        Assert.True(state.Count == 0, "pod state left:\n" + string.Join('\n', state));
        foreach (var id in ids)
        {
            var shimState = Path.Combine(fixture.Containerd.State, "io.containerd.runtime.v2.task", "k8s.io", id);
            Assert.False(Directory.Exists(shimState), $"shim state {shimState} is left");
        }
    }
}
