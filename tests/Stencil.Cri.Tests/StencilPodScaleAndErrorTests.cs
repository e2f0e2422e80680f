using System.Diagnostics;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// What a kubelet sees when a container cannot start (side by side with runc), how long a pod takes
/// until it answers an exec, and several pods started at once.
/// </summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilPodScaleAndErrorTests(StencilCriFixture fixture, ITestOutputHelper output)
{
    /// <summary>Pods started at once. Ten VMs under TCG on 2 shared cores: measured in the report.</summary>
    private const int ConcurrentPods = 10;

    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(30);

    private CriClient Client => fixture.Client;

    [Theory]
    [InlineData("runc")]
    [InlineData(StencilCriFixture.Handler)]
    public Task A_command_that_does_not_exist_fails_StartContainer_and_shows_in_ContainerStatus(string handler) => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = "nocmd-" + handler;
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        await using var pod = await CriPod.RunAsync(Client, config, handler);
        var id = await pod.CreateContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "/no/such/command", "arg"));
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.StartContainerAsync(id));
        output.WriteLine($"{handler}: StartContainer: {error.StatusCode}: {error.Status.Detail}");
        var status = await Client.ContainerStatusAsync(id);
        output.WriteLine($"{handler}: ContainerStatus: {status.State} exit {status.ExitCode} reason {status.Reason}: {status.Message}");
        Assert.Contains("/no/such/command", error.Status.Detail);
        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal("StartError", status.Reason);
        Assert.Contains("/no/such/command", status.Message);
        // The pod itself is fine: another container starts in it.
        var ok = await pod.RunContainerAsync(CriConfig.Container("ok", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        Assert.Equal(0, (await Client.ExecSyncAsync(ok, ["true"], s_execTimeout)).ExitCode);
        await pod.RemoveAsync();
        if (handler == StencilCriFixture.Handler)
            Assert.Empty(fixture.QemuProcesses());
    });

    [Theory]
    [InlineData("runc")]
    [InlineData(StencilCriFixture.Handler)]
    public Task A_container_over_its_memory_limit_is_OOMKilled_as_with_runc(string handler) => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = "oom-" + handler;
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        await using var pod = await CriPod.RunAsync(Client, config, handler);
        // dd's 64 MiB buffer does not fit a 32 MiB limit: the kernel's OOM killer ends it (in the VM's kernel for stencil).
        var container = CriConfig.Container("hog", CriContainerdFixture.BusyboxImage, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
        container.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = 32 << 20 };
        var id = await pod.RunContainerAsync(container);
        ContainerStatus status = null!;
        for (var i = 0; i < 600; i++)
        {
            status = await Client.ContainerStatusAsync(id);
            if (status.State == ContainerState.ContainerExited && status.Reason.Length > 0)
                break;
            await Task.Delay(100);
        }
        output.WriteLine($"{handler}: ContainerStatus: {status.State} exit {status.ExitCode} reason {status.Reason}");
        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal(137, status.ExitCode);
        Assert.Equal("OOMKilled", status.Reason);
        await pod.RemoveAsync();
        if (handler == StencilCriFixture.Handler)
            Assert.Empty(fixture.QemuProcesses());
    });

    [Fact]
    public Task Pod_start_to_first_exec_is_measured() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var times = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var config = CriConfig.Sandbox($"timed-{i}", fixture.LogDirectory($"timed-{i}"));
            await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
            var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
            var exec = await Client.ExecSyncAsync(id, ["echo", "ready"], s_execTimeout);
            Assert.Equal("ready\n", exec.StdoutText);
            times.Add(clock.Elapsed.TotalMilliseconds);
            await pod.RemoveAsync();
        }
        times.Sort();
        output.WriteLine($"RunPodSandbox + CreateContainer + StartContainer until ExecSync answers: {string.Join(", ", times.Select(t => $"{t:F0}"))} ms; median {times[times.Count / 2]:F0} ms");
    });

    [Fact]
    public Task Ten_pods_started_at_once_all_run_and_are_torn_down_cleanly() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var clock = Stopwatch.StartNew();
        var pods = new CriPod?[ConcurrentPods];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, ConcurrentPods).Select(async i =>
            {
                var config = CriConfig.Sandbox($"many-{i}", fixture.LogDirectory($"many-{i}"));
                var pod = pods[i] = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
                var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
                var exec = await Client.ExecSyncAsync(id, ["cat", "/proc/sys/kernel/random/boot_id"], s_execTimeout);
                Assert.Equal(0, exec.ExitCode);
                Assert.Equal(ContainerState.ContainerRunning, (await Client.ContainerStatusAsync(id)).State);
            }));
            output.WriteLine($"{ConcurrentPods} pods running, each answered an exec: {clock.ElapsedMilliseconds} ms");
            var qemu = fixture.QemuProcesses();
            Assert.True(qemu.Count == ConcurrentPods, $"expected {ConcurrentPods} QEMU processes, found {qemu.Count}");
            var ips = new HashSet<string>();
            foreach (var pod in pods)
                Assert.True(ips.Add((await pod!.StatusAsync()).Network.Ip), "two pods got the same IP");

            var removal = Stopwatch.StartNew();
            await Task.WhenAll(pods.Select(p => p!.RemoveAsync()));
            output.WriteLine($"{ConcurrentPods} pods removed at once: {removal.ElapsedMilliseconds} ms");
        }
        finally
        {
            foreach (var pod in pods)
            {
                if (pod is not null)
                    await pod.DisposeAsync();
            }
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (fixture.StencilProcesses().Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Empty(fixture.StencilProcesses());
        Assert.Empty(fixture.LeftoverMounts());
        Assert.Empty(fixture.LeftoverPodState());
        Assert.Empty(Directory.GetFileSystemEntries($"/sys/class/net/{fixture.Bridge}/brif"));
    });
}
