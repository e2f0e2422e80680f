using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

/// <summary>
/// CRI streaming, log and status behaviour that must not depend on the runtime handler: each test runs
/// once per handler (<see cref="RuncStreamingConformanceTests"/>, <see cref="StencilStreamingConformanceTests"/>)
/// and asserts what runc does, so a stencil failure is a difference from runc.
/// </summary>
public abstract class StreamingConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(20);

    private CriClient Client => fixture.Client;

    /// <summary>For a handler's own tests.</summary>
    protected CriContainerdFixture Fixture => fixture;

    protected ITestOutputHelper Output => output;

    private Task<CriPod> RunPodAsync(string name) =>
        CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name + "-" + handler)), handler);

    [Fact]
    public Task ExecSync_past_its_timeout_returns_after_the_timeout_and_the_process_is_killed() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("exec-timeout");
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        // Warm the exec path first so the timing below measures the timeout, not a first exec.
        Assert.Equal(0, (await Client.ExecSyncAsync(id, ["true"], s_execTimeout)).ExitCode);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ExecSyncAsync(id, ["sleep", "30"], TimeSpan.FromSeconds(2)));
        clock.Stop();
        output.WriteLine($"{handler}: ExecSync sleep 30 with timeout 2 s: {error.StatusCode} \"{error.Status.Detail}\" after {clock.ElapsedMilliseconds} ms");
        // containerd 1.6 kills the exec process at the deadline and answers an error naming the timeout.
        Assert.Contains("timeout 2s exceeded", error.Status.Detail);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12));

        var ps = await Client.ExecSyncAsync(id, ["ps", "-o", "pid,args"], s_execTimeout);
        output.WriteLine($"{handler}: ps after the timeout:\n{ps.StdoutText}");
        Assert.Equal(0, ps.ExitCode);
        Assert.DoesNotContain("sleep 30", ps.StdoutText);
        await pod.RemoveAsync();
    });

    [Fact]
    public Task Exec_over_the_websocket_stream_server_returns_stdout_stderr_and_exit_status() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("ws-exec");
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var failing = await ExecAsync(id, ["sh", "-c", "echo out; echo err >&2; exit 3"], cts.Token);
        output.WriteLine($"{handler}: exit 3: stdout \"{ChannelWebSocket.Text(failing, 1)}\" stderr \"{ChannelWebSocket.Text(failing, 2)}\" status {ChannelWebSocket.Text(failing, 3)}");
        Assert.Equal("out\n", ChannelWebSocket.Text(failing, 1));
        Assert.Equal("err\n", ChannelWebSocket.Text(failing, 2));
        var status = ChannelWebSocket.Text(failing, 3);
        Assert.Contains("\"Failure\"", status);
        Assert.Contains("NonZeroExitCode", status);
        Assert.Contains("\"ExitCode\",\"message\":\"3\"", status);

        var succeeding = await ExecAsync(id, ["echo", "hello"], cts.Token);
        output.WriteLine($"{handler}: exit 0: stdout \"{ChannelWebSocket.Text(succeeding, 1)}\" status {ChannelWebSocket.Text(succeeding, 3)}");
        Assert.Equal("hello\n", ChannelWebSocket.Text(succeeding, 1));
        Assert.Contains("\"Success\"", ChannelWebSocket.Text(succeeding, 3));
        await pod.RemoveAsync();
    });

    [Fact]
    public Task Attach_over_the_websocket_stream_server_streams_the_container_output() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("ws-attach");
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.5; done"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var attach = await Client.Runtime.AttachAsync(new AttachRequest { ContainerId = id, Stdout = true, Stderr = true });
        using var socket = await ChannelWebSocket.ConnectAsync(attach.Url, cts.Token);
        Assert.Equal(ChannelWebSocket.Protocol, socket.NegotiatedProtocol);
        var stdout = new StringBuilder();
        while (!stdout.ToString().Contains("\ntick", StringComparison.Ordinal))
        {
            var message = await socket.ReceiveAsync(cts.Token) ?? throw new InvalidOperationException($"attach closed after \"{stdout}\"");
            if (message.Channel == 1)
                stdout.Append(Encoding.UTF8.GetString(message.Data));
        }
        output.WriteLine($"{handler}: attach stdout \"{stdout}\"");
        Assert.Matches(@"tick\d+\n", stdout.ToString());
        await pod.RemoveAsync();
    });

    [Fact]
    public Task ReopenContainerLog_after_a_rename_writes_new_lines_to_a_new_file() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("log-reopen");
        var config = CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.2; done");
        var id = await pod.RunContainerAsync(config);
        var log = Path.Combine(pod.Config.LogDirectory, config.LogPath);
        await WaitForAsync(() => File.Exists(log) && File.ReadAllText(log).Contains(" stdout F line2", StringComparison.Ordinal), $"{log} gets line2");

        File.Move(log, log + ".1");
        await Client.ReopenContainerLogAsync(id);
        Assert.True(File.Exists(log), $"ReopenContainerLog did not create {log}");
        await WaitForAsync(() => File.ReadAllLines(log).Length >= 3, $"{log} gets three new lines");
        var rotated = File.ReadAllLines(log + ".1");
        var fresh = File.ReadAllLines(log);
        output.WriteLine($"{handler}: rotated file {rotated.Length} lines, ends \"{rotated[^1]}\"; new file starts \"{fresh[0]}\"");
        Assert.All(fresh, line => Assert.Matches(@"^\S+ stdout F line\d+$", line));
        // The new file continues where the rotated one stopped: no line is in both.
        var last = int.Parse(rotated[^1].Split("line")[1]);
        var first = int.Parse(fresh[0].Split("line")[1]);
        Assert.True(first > last, $"the new file starts at line{first}, the rotated one ends at line{last}");
        await pod.RemoveAsync();
    });

    [Fact]
    public Task ContainerStatus_of_a_container_that_exited_3() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("status");
        var hostDir = Directory.CreateTempSubdirectory("stencil-test-cri-mount-").FullName;
        try
        {
            var config = CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sh", "-c", "echo bye; exit 3");
            config.Mounts.Add(new Mount { HostPath = hostDir, ContainerPath = "/data", Readonly = true });
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
            var id = await pod.RunContainerAsync(config);
            ContainerStatus? status = null;
            await WaitForAsync(async () => (status = await Client.ContainerStatusAsync(id)).State == ContainerState.ContainerExited, "the container exits");
            Assert.NotNull(status);
            output.WriteLine($"{handler}: {status}");
            Assert.Equal(id, status.Id);
            Assert.Equal(3, status.ExitCode);
            Assert.Equal("Error", status.Reason);
            Assert.Equal("", status.Message);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + 1_000_000_000;
            Assert.InRange(status.CreatedAt, before - 1_000_000_000, status.StartedAt);
            // Not FinishedAt >= StartedAt: containerd stamps StartedAt when StartContainer returns, and a
            // process as short as this one can have exited (exited_at) a moment before that (seen with runc).
            Assert.InRange(status.StartedAt, status.CreatedAt, now);
            Assert.InRange(status.FinishedAt, status.CreatedAt, now);
            Assert.Equal(CriContainerdFixture.BusyboxImage, status.Image.Image);
            Assert.StartsWith("sha256:", status.ImageRef);
            Assert.Equal("app", status.Metadata.Name);
            Assert.Equal(Path.Combine(pod.Config.LogDirectory, config.LogPath), status.LogPath);
            var mount = Assert.Single(status.Mounts);
            Assert.Equal(hostDir, mount.HostPath);
            Assert.Equal("/data", mount.ContainerPath);
            Assert.True(mount.Readonly);
            await pod.RemoveAsync();
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    });

    [Fact]
    public Task ContainerStats_and_ListContainerStats_report_cpu_memory_and_writable_layer() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("stats");
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "dd if=/dev/zero of=/filler bs=1024 count=512 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3600"));
        ContainerStats? stats = null;
        await WaitForAsync(async () => (stats = await Client.ContainerStatsAsync(id)).Cpu?.UsageCoreNanoSeconds?.Value > 0
                                       && stats.WritableLayer?.UsedBytes?.Value >= 512 * 1024, "cpu and writable layer figures (dd's 512 KiB written)");
        Assert.NotNull(stats);
        output.WriteLine($"{handler}: {stats}");
        Assert.Equal(id, stats.Attributes.Id);
        Assert.True(stats.Cpu.Timestamp > 0, "cpu timestamp is zero");
        Assert.True(stats.Memory?.WorkingSetBytes?.Value > 0, $"memory working set is zero: {stats.Memory}");
        Assert.True(stats.Memory.RssBytes?.Value > 0, $"memory rss is zero: {stats.Memory}");
        // dd and the shell touched fresh pages: both runtimes count minor faults (major ones may be 0).
        Assert.True(stats.Memory.PageFaults?.Value > 0, $"page faults are zero: {stats.Memory}");
        Assert.NotNull(stats.Memory.MajorPageFaults);
        Assert.True(stats.WritableLayer.UsedBytes.Value >= 512 * 1024, $"writable layer {stats.WritableLayer.UsedBytes.Value} bytes < the 512 KiB written");
        Assert.True(stats.WritableLayer.InodesUsed?.Value > 0, $"writable layer inodes are zero: {stats.WritableLayer}");

        var listed = Assert.Single(await Client.ListContainerStatsAsync(pod.Id));
        output.WriteLine($"{handler}: listed {listed}");
        Assert.Equal(id, listed.Attributes.Id);
        Assert.True(listed.Cpu?.UsageCoreNanoSeconds?.Value > 0, $"listed cpu is zero: {listed.Cpu}");
        Assert.True(listed.Memory?.WorkingSetBytes?.Value > 0, $"listed memory working set is zero: {listed.Memory}");
        Assert.True(listed.WritableLayer?.UsedBytes?.Value >= 512 * 1024, $"listed writable layer: {listed.WritableLayer}");
        await pod.RemoveAsync();
    });

    /// <summary>Port forward over the websocket stream server to <paramref name="port"/> of the pod, sending
    /// an HTTP request: what came back on the port's data channel and on its error channel (each without
    /// the 2-byte port prefix the server sends first).</summary>
    private async Task<(string Data, string Error)> PortForwardAsync(CriPod pod, int port, string path = "/")
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var forward = await Client.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = pod.Id, Port = { port } }, cancellationToken: cts.Token);
        using var socket = await ChannelWebSocket.ConnectAsync(forward.Url + $"?port={port}", cts.Token);
        Assert.Equal(ChannelWebSocket.Protocol, socket.NegotiatedProtocol);
        try
        {
            await socket.SendAsync(0, Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"), cts.Token);
        }
        catch (System.Net.WebSockets.WebSocketException e)
        {
            // The server may already have given up on the port and closed; its error channel says why.
            output.WriteLine($"{handler}: sending the request failed: {e.Message}");
        }
        var channels = await socket.ReadToEndAsync(cts.Token);
        return (AfterPort(channels, 0), AfterPort(channels, 1));

        // Each channel opens with the port number (little endian).
        string AfterPort(Dictionary<byte, byte[]> channels, byte channel)
        {
            if (!channels.TryGetValue(channel, out var bytes) || bytes.Length == 0)
                return "";
            Assert.True(bytes.Length >= 2 && bytes[0] == (byte)port && bytes[1] == (byte)(port >> 8),
                $"channel {channel} does not open with port {port}: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 8)))}");
            return Encoding.UTF8.GetString(bytes, 2, bytes.Length - 2);
        }
    }

    private static ContainerConfig HttpdContainer() => CriConfig.Container("web", CriContainerdFixture.BusyboxImage,
        "sh", "-c", "mkdir -p /www && echo hello > /www/index.html && head -c 2097152 /dev/zero | tr '\\0' x > /www/big && httpd -f -p 8080 -h /www");

    /// <summary>
    /// containerd dials localhost:PORT in the pod's network namespace: with runc the httpd listens there;
    /// with stencil a relay there carries the connection to the same port in the guest (nft redirect,
    /// agent PortForward* calls). Both answer the request on the data channel with nothing on the error
    /// channel. A port nothing listens on brings no data and an error (runc: the dial is refused; stencil:
    /// the relay resets the connection the guest refused).
    /// </summary>
    [Fact]
    public Task PortForward_over_the_websocket_stream_server_to_an_httpd_in_the_pod() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await using var pod = await RunPodAsync("portforward");
        var id = await pod.RunContainerAsync(HttpdContainer());
        // Wait on the listening socket, not on a request: from the host the pod subnet may be shadowed by
        // another test's fixture.
        await WaitForAsync(async () => (await Client.ExecSyncAsync(id, ["netstat", "-ltn"], s_execTimeout)).StdoutText.Contains(":8080 ", StringComparison.Ordinal),
            "httpd listens on 8080");

        var clock = Stopwatch.StartNew();
        var (data, error) = await PortForwardAsync(pod, 8080);
        output.WriteLine($"{handler}: port forward to 8080 in {clock.ElapsedMilliseconds} ms: data \"{data}\" error \"{error}\"");
        Assert.StartsWith("HTTP/1.", data);
        Assert.EndsWith("\r\n\r\nhello\n", data);
        Assert.Equal("", error);

        // 2 MiB: what the data path costs (containerd waits 1 s after the answer before it closes, for both).
        clock.Restart();
        (data, error) = await PortForwardAsync(pod, 8080, "/big");
        output.WriteLine($"{handler}: port forward of a 2 MiB answer in {clock.ElapsedMilliseconds} ms");
        Assert.Equal("", error);
        Assert.StartsWith("HTTP/1.", data);
        Assert.EndsWith("\r\n\r\n" + new string('x', 2 << 20), data);

        clock.Restart();
        (data, error) = await PortForwardAsync(pod, 8081);
        output.WriteLine($"{handler}: port forward to 8081 (closed) in {clock.ElapsedMilliseconds} ms: data \"{data}\" error \"{error}\"");
        Assert.Equal("", data);
        Assert.Contains("error forwarding port 8081", error);
        await pod.RemoveAsync();
    });

    private async Task<Dictionary<byte, byte[]>> ExecAsync(string containerId, string[] command, CancellationToken cancellationToken)
    {
        var request = new ExecRequest { ContainerId = containerId, Stdout = true, Stderr = true };
        request.Cmd.AddRange(command);
        var exec = await Client.Runtime.ExecAsync(request, cancellationToken: cancellationToken);
        using var socket = await ChannelWebSocket.ConnectAsync(exec.Url, cancellationToken);
        Assert.Equal(ChannelWebSocket.Protocol, socket.NegotiatedProtocol);
        return await socket.ReadToEndAsync(cancellationToken);
    }

    private static Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after 30 s waiting until {what}");
            await Task.Delay(200);
        }
    }
}
