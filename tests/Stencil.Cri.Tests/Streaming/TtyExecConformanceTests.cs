using System.Text;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

/// <summary>
/// Exec with a terminal (kubectl exec -it) over the websocket stream server: the process gets a pty in
/// the container, its output comes back on the stdout channel with the terminal's line endings (there is
/// no stderr with a tty), what is sent on stdin reaches it through the terminal, and the exit status
/// arrives on the error channel. Each test runs once per handler (<see cref="RuncTtyExecConformanceTests"/>,
/// <see cref="StencilTtyExecConformanceTests"/>) and asserts what runc does.
/// </summary>
public abstract class TtyExecConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private CriClient Client => fixture.Client;

    [Fact]
    public Task Exec_with_a_tty_runs_on_a_pty_and_returns_output_input_and_exit_status() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"tty-exec-{handler}";
        await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // `tty` names the pty; the exit status 5 comes back as a failure with ExitCode 5. Stdin is asked for
        // (kubectl exec -it): with a tty but no stdin, containerd 1.6 loses the output even with runc
        // ("Failed to pipe stdout for container exec ...: file already closed" in its log).
        var request = new ExecRequest { ContainerId = id, Tty = true, Stdin = true, Stdout = true };
        request.Cmd.AddRange(["sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 5"]);
        var exec = await Client.Runtime.ExecAsync(request, cancellationToken: cts.Token);
        Dictionary<byte, byte[]> channels;
        using (var socket = await ChannelWebSocket.ConnectAsync(exec.Url, cts.Token))
        {
            Assert.Equal(ChannelWebSocket.Protocol, socket.NegotiatedProtocol);
            channels = await socket.ReadToEndAsync(cts.Token);
        }
        var stdout = ChannelWebSocket.Text(channels, 1);
        var status = ChannelWebSocket.Text(channels, 3);
        output.WriteLine($"{handler}: stdout {Escape(stdout)} stderr {Escape(ChannelWebSocket.Text(channels, 2))} status {status}");
        // The terminal turns \n into \r\n.
        Assert.Matches(@"^/dev/pts/\d+\r\nstdin-is-a-tty\r\n$", stdout);
        Assert.False(channels.ContainsKey(2), "a tty exec has no stderr channel output");
        Assert.Contains("\"Failure\"", status);
        Assert.Contains("\"ExitCode\",\"message\":\"5\"", status);

        // With stdin: a line typed on the terminal is echoed by it and read by the process.
        var interactive = new ExecRequest { ContainerId = id, Tty = true, Stdin = true, Stdout = true };
        interactive.Cmd.AddRange(["sh", "-c", "read line; echo got:$line; exit 0"]);
        exec = await Client.Runtime.ExecAsync(interactive, cancellationToken: cts.Token);
        using (var socket = await ChannelWebSocket.ConnectAsync(exec.Url, cts.Token))
        {
            await socket.SendAsync(0, Encoding.ASCII.GetBytes("hello\r"), cts.Token);
            channels = await socket.ReadToEndAsync(cts.Token);
        }
        stdout = ChannelWebSocket.Text(channels, 1);
        status = ChannelWebSocket.Text(channels, 3);
        output.WriteLine($"{handler}: interactive stdout {Escape(stdout)} status {status}");
        Assert.Equal("hello\r\ngot:hello\r\n", stdout);
        Assert.Contains("\"Success\"", status);
        await pod.RemoveAsync();
    });

    /// <summary>An exec (with a tty) whose command does not exist fails at once, the runtime's reason on
    /// the error channel, and the container goes on serving execs.</summary>
    [Fact]
    public Task An_exec_that_cannot_start_fails_at_once_with_the_reason() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"tty-exec-fail-{handler}";
        await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var request = new ExecRequest { ContainerId = id, Tty = true, Stdin = true, Stdout = true };
        request.Cmd.Add("/no/such/command");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var exec = await Client.Runtime.ExecAsync(request, cancellationToken: cts.Token);
        Dictionary<byte, byte[]> channels;
        using (var socket = await ChannelWebSocket.ConnectAsync(exec.Url, cts.Token))
            channels = await socket.ReadToEndAsync(cts.Token);
        clock.Stop();
        var status = ChannelWebSocket.Text(channels, 3);
        output.WriteLine($"{handler}: after {clock.ElapsedMilliseconds} ms: stdout {Escape(ChannelWebSocket.Text(channels, 1))} status {status}");
        Assert.Contains("\"Failure\"", status);
        Assert.Contains("/no/such/command", status);
        // containerd kills and waits for a failed exec before it answers: that wait must not run to its deadline.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"{handler}: the failed exec took {clock.Elapsed}");

        var after = await Client.ExecSyncAsync(id, ["echo", "still-here"], TimeSpan.FromSeconds(20));
        Assert.Equal("still-here\n", after.StdoutText);
        await pod.RemoveAsync();
    });

    private static string Escape(string text) => "\"" + text.Replace("\r", "\\r").Replace("\n", "\\n") + "\"";
}
