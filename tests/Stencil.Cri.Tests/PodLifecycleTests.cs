using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// A whole pod through containerd's CRI plugin with the runc handler, step by step as a kubelet
/// drives it, then a check that nothing is left behind (network namespace, veth, mounts, shim state).
/// This proves the client and the harness; the stencil handler is driven the same way later.
/// </summary>
[Collection(CriCollection.Name)]
public sealed class PodLifecycleTests(CriContainerdFixture fixture, ITestOutputHelper output)
{
    private const string Handler = "runc";
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(10);

    private CriClient Client => fixture.Client;

    [Fact]
    public Task A_pod_runs_execs_stops_and_is_removed_without_leftovers() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var clock = Stopwatch.StartNew();
        var config = CriConfig.Sandbox("lifecycle", fixture.LogDirectory("lifecycle"));
        await using var pod = await CriPod.RunAsync(Client, config, Handler);
        output.WriteLine($"RunPodSandbox: {clock.ElapsedMilliseconds} ms");

        // The sandbox is ready, on the runc handler, with an address from the CNI range.
        var sandbox = await pod.StatusAsync();
        Assert.Equal(PodSandboxState.SandboxReady, sandbox.State);
        Assert.Equal(Handler, sandbox.RuntimeHandler);
        Assert.Equal("lifecycle", sandbox.Metadata.Name);
        var podIp = IPAddress.Parse(sandbox.Network.Ip);
        Assert.True(InSubnet(podIp, "10.88.231.0", 24), $"pod IP {podIp} is not in {CriContainerdFixture.Subnet}");
        var netns = await pod.NetworkNamespacePathAsync();
        Assert.NotNull(netns);
        Assert.True(File.Exists(netns), $"network namespace {netns} does not exist while the pod runs");
        output.WriteLine($"pod {pod.Id}: IP {podIp}, network namespace {netns}");
        var hostVeths = BridgePorts();
        Assert.Single(hostVeths);
        Assert.Contains(pod.Id, (await Client.ListPodSandboxAsync()).Select(p => p.Id));

        // A container that says it started and exits 0 on SIGTERM (busybox sh's trap interrupts wait at once).
        var containerConfig = CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "trap 'echo stopping; exit 0' TERM; echo started; sleep 3600 & wait");
        var containerId = await pod.CreateContainerAsync(containerConfig);
        Assert.Equal(ContainerState.ContainerCreated, (await Client.ContainerStatusAsync(containerId)).State);
        await Client.StartContainerAsync(containerId);
        var running = await Client.ContainerStatusAsync(containerId);
        Assert.Equal(ContainerState.ContainerRunning, running.State);
        Assert.True(running.StartedAt > 0, "StartedAt is not set on a running container");
        Assert.Equal(containerId, Assert.Single(await Client.ListContainersAsync(pod.Id)).Id);
        output.WriteLine($"container running: {clock.ElapsedMilliseconds} ms");

        // ExecSync: output on both streams and the exit code come back.
        var exec = await Client.ExecSyncAsync(containerId, ["sh", "-c", "echo out; echo err >&2; exit 3"], s_execTimeout);
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal("out\n", exec.StdoutText);
        Assert.Equal("err\n", exec.StderrText);
        // The container shares the pod's network namespace: eth0 carries the pod IP.
        var addr = await Client.ExecSyncAsync(containerId, ["ip", "-4", "addr", "show", "eth0"], s_execTimeout);
        Assert.True(addr.ExitCode == 0, addr.ToString());
        Assert.Contains($"inet {podIp}/24", addr.StdoutText);
        output.WriteLine($"exec done: {clock.ElapsedMilliseconds} ms");

        // StopContainer: SIGTERM, the trap exits 0 well within the grace period.
        await Client.StopContainerAsync(containerId, TimeSpan.FromSeconds(10));
        var exited = await Client.ContainerStatusAsync(containerId);
        Assert.Equal(ContainerState.ContainerExited, exited.State);
        Assert.Equal(0, exited.ExitCode);
        Assert.Equal("Completed", exited.Reason);
        var log = await File.ReadAllTextAsync(Path.Combine(config.LogDirectory, containerConfig.LogPath));
        Assert.Contains(" stdout F started", log);
        Assert.Contains(" stdout F stopping", log);

        await pod.RemoveContainerAsync(containerId, TimeSpan.Zero);
        var gone = await Assert.ThrowsAsync<RpcException>(() => Client.ContainerStatusAsync(containerId));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);

        // StopPodSandbox tears the network down; RemovePodSandbox forgets the pod.
        await Client.StopPodSandboxAsync(pod.Id);
        Assert.Equal(PodSandboxState.SandboxNotready, (await pod.StatusAsync()).State);
        await pod.RemoveAsync();
        Assert.DoesNotContain(pod.Id, (await Client.ListPodSandboxAsync()).Select(p => p.Id));
        output.WriteLine($"pod removed: {clock.ElapsedMilliseconds} ms");

        // Nothing is left: namespace, veth pair, mounts, shim state and runc state.
        Assert.False(File.Exists(netns), $"network namespace {netns} is left");
        Assert.Empty(BridgePorts());
        foreach (var veth in hostVeths)
            Assert.False(Directory.Exists("/sys/class/net/" + veth), $"host veth {veth} is left");
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Where(line => line.Contains(pod.Id, StringComparison.Ordinal) || line.Contains(containerId, StringComparison.Ordinal)
                           || line.Contains(netns, StringComparison.Ordinal))
            .ToList();
        Assert.True(mounts.Count == 0, "mounts left:\n" + string.Join('\n', mounts));
        foreach (var id in new[] { pod.Id, containerId })
        {
            var shimState = Path.Combine(fixture.Containerd.State, "io.containerd.runtime.v2.task", "k8s.io", id);
            Assert.False(Directory.Exists(shimState), $"shim state {shimState} is left");
            Assert.False(Directory.Exists(Path.Combine("/run/containerd/runc/k8s.io", id)), $"runc state of {id} is left");
        }
    });

    [Fact]
    public Task Streaming_endpoints_stats_and_log_reopen_answer_for_a_running_container() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.Sandbox("streaming", fixture.LogDirectory("streaming"));
        await using var pod = await CriPod.RunAsync(Client, config, Handler);
        var containerId = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));

        // Exec, Attach and PortForward answer with a URL of containerd's streaming server (loopback);
        // nothing is streamed here.
        var exec = await Client.Runtime.ExecAsync(new ExecRequest { ContainerId = containerId, Cmd = { "true" }, Stdout = true });
        var attach = await Client.Runtime.AttachAsync(new AttachRequest { ContainerId = containerId, Stdout = true });
        var forward = await Client.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = pod.Id, Port = { 80 } });
        foreach (var url in new[] { exec.Url, attach.Url, forward.Url })
            Assert.StartsWith("http://127.0.0.1:", url);

        var stats = await Client.ContainerStatsAsync(containerId);
        Assert.Equal(containerId, stats.Attributes.Id);
        Assert.NotNull(stats.Memory);
        Assert.Contains(containerId, (await Client.ListContainerStatsAsync(pod.Id)).Select(s => s.Attributes.Id));

        await Client.ReopenContainerLogAsync(containerId);
        await pod.RemoveAsync();
    });

    /// <summary>The host ends of the veth pairs plugged into the fixture's bridge.</summary>
    private string[] BridgePorts()
    {
        var brif = $"/sys/class/net/{fixture.Bridge}/brif";
        return Directory.Exists(brif) ? Directory.GetFileSystemEntries(brif).Select(p => Path.GetFileName(p)!).ToArray() : [];
    }

    private static bool InSubnet(IPAddress address, string network, int prefix)
    {
        var a = address.GetAddressBytes();
        var n = IPAddress.Parse(network).GetAddressBytes();
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return ((ToUInt(a) ^ ToUInt(n)) & mask) == 0;
        static uint ToUInt(byte[] b) => (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }
}
