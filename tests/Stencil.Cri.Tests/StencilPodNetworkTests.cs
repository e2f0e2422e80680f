using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// The pod's network inside the VM: the CNI interface is redirected to a tap that QEMU serves to the
/// guest, whose NIC has the pod's MAC and IP. A server in the pod answers the host at the pod IP, and
/// removing the pod leaves no tap, filter or namespace. Host-network pods are refused with a clear error.
/// </summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilPodNetworkTests(StencilCriFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(20);

    private CriClient Client => fixture.Client;

    [Fact]
    public Task An_http_server_in_the_pod_answers_the_host_at_the_pod_IP() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.Sandbox("vm-httpd", fixture.LogDirectory("vm-httpd"));
        await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
        var podIp = IPAddress.Parse((await pod.StatusAsync()).Network.Ip);
        var netns = await pod.NetworkNamespacePathAsync();
        Assert.NotNull(netns);
        output.WriteLine($"pod {pod.Id}: IP {podIp}, netns {netns}");

        // The host side: a tap next to eth0 in the pod's namespace, joined by ingress redirects.
        var links = await InNamespaceAsync(netns, "ip", "-o", "link", "show");
        Assert.Contains("tap0_stencil", links);
        var filters = await InNamespaceAsync(netns, "tc", "filter", "show", "dev", "eth0", "ingress");
        Assert.Contains("mirred", filters);

        var id = await pod.RunContainerAsync(CriConfig.Container("web", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "mkdir -p /www && echo hello-from-the-vm > /www/index.html && exec httpd -f -p 8080 -h /www"));
        // The guest NIC has the pod's address and MAC.
        var addr = await Client.ExecSyncAsync(id, ["ip", "-o", "addr", "show", "eth0"], s_execTimeout);
        Assert.True(addr.ExitCode == 0, addr.ToString());
        Assert.Contains($"inet {podIp}/24", addr.StdoutText);
        // (sysfs shows the host's namespace even under nsenter: ask iproute2.)
        var podLink = await InNamespaceAsync(netns, "ip", "-o", "link", "show", "dev", "eth0");
        var podMac = System.Text.RegularExpressions.Regex.Match(podLink, "link/ether ([0-9a-f:]{17})").Groups[1].Value;
        var guestMac = await Client.ExecSyncAsync(id, ["cat", "/sys/class/net/eth0/address"], s_execTimeout);
        Assert.Equal(podMac, guestMac.StdoutText.Trim());

        var body = await HttpGetAsync(podIp, 8080, "/index.html", TimeSpan.FromSeconds(30));
        Assert.Contains("200 OK", body);
        Assert.Contains("hello-from-the-vm", body);

        await pod.RemoveAsync();
        // The shim removed tap and filters when the VM stopped, before CNI's teardown (the namespace still existed).
        var log = fixture.Containerd.ReadLog();
        var detached = log.IndexOf($"pod network detached: eth0 <-> tap0_stencil in {netns}", StringComparison.Ordinal);
        Assert.True(detached >= 0, "the shim did not log the network's detach");
        Assert.True(log.IndexOf($"TearDown network for sandbox \\\"{pod.Id}\\\"", StringComparison.Ordinal) > detached,
            "CNI tore the network down before the shim detached it");
        // CNI deleted the namespace (and the tap and filters inside it with it); the host veth is gone too.
        Assert.False(File.Exists(netns), $"network namespace {netns} is left");
        Assert.Empty(Directory.GetFileSystemEntries($"/sys/class/net/{fixture.Bridge}/brif"));
        Assert.Empty(fixture.QemuProcesses());
    });

    /// <summary>
    /// A pooled clone has had a NIC plugged in, configured and removed before it waits (the NIC warm-up):
    /// the pod that takes it gets its own NIC as eth0, with the pod's MAC and IP, and nothing else.
    /// </summary>
    [Fact]
    public Task A_pod_on_a_pooled_clone_has_the_pods_network_and_only_it() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var daemon = await Stencil.TestSupport.FactoryDaemonProcess.StartAsync(fixture.ConfigPath, 1, CancellationToken.None);
        try
        {
            await daemon.WaitForReadyAsync(1, CancellationToken.None);
            await PooledPodAsync();
        }
        finally
        {
            await daemon.DisposeAsync(); // SIGTERM: the daemon discards the clone it made after the hand-over
        }
        Assert.Empty(fixture.QemuProcesses());
    });

    private async Task PooledPodAsync()
    {
        var config = CriConfig.Sandbox("vm-pool-net", fixture.LogDirectory("vm-pool-net"));
        await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.Handler);
        Assert.Contains($"pod k8s.io/{pod.Id}: took clone ", fixture.Containerd.ReadLog());
        var podIp = IPAddress.Parse((await pod.StatusAsync()).Network.Ip);
        var netns = await pod.NetworkNamespacePathAsync();
        Assert.NotNull(netns);

        var id = await pod.RunContainerAsync(CriConfig.Container("web", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "mkdir -p /www && echo hello-from-a-pooled-vm > /www/index.html && exec httpd -f -p 8080 -h /www"));
        var links = await Client.ExecSyncAsync(id, ["ip", "-o", "link", "show"], s_execTimeout);
        output.WriteLine(links.StdoutText);
        Assert.Equal(["eth0", "lo"], System.Text.RegularExpressions.Regex.Matches(links.StdoutText, @"^\d+: ([^:@]+)[:@]", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal));
        var addr = await Client.ExecSyncAsync(id, ["ip", "-o", "addr", "show", "eth0"], s_execTimeout);
        Assert.Contains($"inet {podIp}/24", addr.StdoutText);
        Assert.DoesNotContain("192.0.2.", addr.StdoutText);
        var podLink = await InNamespaceAsync(netns, "ip", "-o", "link", "show", "dev", "eth0");
        var podMac = System.Text.RegularExpressions.Regex.Match(podLink, "link/ether ([0-9a-f:]{17})").Groups[1].Value;
        Assert.Equal(podMac, (await Client.ExecSyncAsync(id, ["cat", "/sys/class/net/eth0/address"], s_execTimeout)).StdoutText.Trim());
        var routes = await Client.ExecSyncAsync(id, ["ip", "route", "show"], s_execTimeout);
        Assert.DoesNotContain("192.0.2.", routes.StdoutText);

        var body = await HttpGetAsync(podIp, 8080, "/index.html", TimeSpan.FromSeconds(30));
        Assert.Contains("hello-from-a-pooled-vm", body);
        await pod.RemoveAsync();
    }

    [Fact]
    public Task Two_pods_reach_each_other() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var server = await CriPod.RunAsync(Client, CriConfig.Sandbox("vm-net-a", fixture.LogDirectory("vm-net-a")), StencilCriFixture.Handler);
        await using var client = await CriPod.RunAsync(Client, CriConfig.Sandbox("vm-net-b", fixture.LogDirectory("vm-net-b")), StencilCriFixture.Handler);
        var serverIp = (await server.StatusAsync()).Network.Ip;
        await server.RunContainerAsync(CriConfig.Container("web", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "mkdir -p /www && echo hello-from-pod-a > /www/index.html && exec httpd -f -p 8080 -h /www"));
        var id = await client.RunContainerAsync(CriConfig.Container("curl", CriContainerdFixture.BusyboxImage, "sleep", "1000"));

        // Pod B's VM fetches from pod A's VM across the CNI bridge (retried: httpd may not listen yet).
        // busybox nc, not wget: the static busybox's wget crashes in a rootfs without NSS files.
        var get = await Client.ExecSyncAsync(id, ["sh", "-c",
            $"for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {serverIp} 8080 | grep hello && exit 0; sleep 1; done; exit 1"], TimeSpan.FromSeconds(60));
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal("hello-from-pod-a", get.StdoutText.Trim());
        Assert.Equal(2, fixture.QemuProcesses().Count);

        await client.RemoveAsync();
        await server.RemoveAsync();
        Assert.Empty(fixture.QemuProcesses());
    });

    [Fact]
    public Task A_host_network_pod_is_refused_with_a_clear_error() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.HostNetworkSandbox("vm-hostnet", fixture.LogDirectory("vm-hostnet"));
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.RunPodSandboxAsync(config, StencilCriFixture.Handler));
        output.WriteLine(error.Status.Detail);
        Assert.Contains("host network is not supported", error.Status.Detail);
        Assert.Empty(fixture.QemuProcesses());
        Assert.Empty(fixture.LeftoverPodState());
        // containerd cleans up the refused sandbox itself: it is not listed.
        Assert.DoesNotContain((await Client.ListPodSandboxAsync()), p => p.Metadata.Name == "vm-hostnet" && p.State == PodSandboxState.SandboxReady);
    });

    /// <summary>A raw HTTP/1.0 GET (no HttpClient: no proxy settings, no connection pooling), retried until
    /// the server listens or the time is up.</summary>
    private async Task<string> HttpGetAsync(IPAddress address, int port, string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.ConnectAsync(address, port, cts.Token);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n"), cts.Token);
                using var reader = new StreamReader(stream, Encoding.ASCII);
                return await reader.ReadToEndAsync(cts.Token);
            }
            catch (Exception ex) when ((ex is SocketException or OperationCanceledException or IOException) && DateTime.UtcNow < deadline)
            {
                output.WriteLine($"GET http://{address}:{port}{path}: {ex.Message}; retrying");
                await Task.Delay(500);
            }
        }
    }

    private static async Task<string> InNamespaceAsync(string netns, string command, params string[] args)
    {
        var result = await Stencil.TestSupport.ChildProcess.RunAsync("nsenter", [$"--net={netns}", command, .. args], TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, $"nsenter --net={netns} {command} {string.Join(' ', args)}: {result.Stderr}");
        return result.Stdout;
    }
}
