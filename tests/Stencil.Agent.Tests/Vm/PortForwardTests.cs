using System.Diagnostics;
using System.Text;
using Stencil.Agent.Client;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>The agent's PortForward* calls against a busybox httpd in a container of the shared guest.</summary>
[Collection(GuestVmCollection.Name)]
public sealed class PortForwardTests(GuestVmFixture vm, ITestOutputHelper output)
{
    private AgentClient Agent => vm.Agent;

    [Fact]
    public async Task A_stream_to_a_containers_port_carries_a_request_and_its_answer_and_a_closed_port_is_refused()
    {
        using var cts = new CancellationTokenSource(GuestVmFixture.Timeout);
        // Nothing listens on 8081: refused, with the port in the message.
        var refused = await Assert.ThrowsAsync<StencilException>(() => Agent.PortForwardOpenAsync(8081, cts.Token));
        Assert.Equal(ErrorKind.Unavailable, refused.Kind);
        Assert.Contains("connection refused to 127.0.0.1:8081 in the pod", refused.Message);

        await vm.CreateAsync("web", ["sh", "-c", "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 8081 -h /tmp/www"]);
        try
        {
            await Agent.StartContainerAsync("web", cts.Token);
            // The container shares the guest's network namespace: its listener is the agent's 127.0.0.1:8081.
            ulong stream = 0;
            for (var attempt = 0; stream == 0; attempt++)
            {
                try
                {
                    stream = await Agent.PortForwardOpenAsync(8081, cts.Token);
                }
                catch (StencilException ex) when (ex.Kind == ErrorKind.Unavailable && attempt < 100)
                {
                    await Task.Delay(100, cts.Token);
                }
            }

            var clock = Stopwatch.StartNew();
            Assert.Equal(18, await Agent.PortForwardWriteAsync(stream, "GET / HTTP/1.0\r\n\r\n"u8.ToArray(), cts.Token));
            await Agent.PortForwardCloseWriteAsync(stream, cts.Token);
            var answer = new StringBuilder();
            while (true)
            {
                var chunk = await Agent.PortForwardReadAsync(stream, cancellationToken: cts.Token);
                if (chunk.IsEmpty)
                    break;
                answer.Append(Encoding.ASCII.GetString(chunk.Span));
            }
            output.WriteLine($"request and answer through the agent: {clock.ElapsedMilliseconds} ms");
            Assert.StartsWith("HTTP/1.", answer.ToString());
            Assert.EndsWith("\r\n\r\nhello\n", answer.ToString());

            // End of stream stays end of stream until the stream is closed; then the id is unknown.
            Assert.True((await Agent.PortForwardReadAsync(stream, cancellationToken: cts.Token)).IsEmpty);
            await Agent.PortForwardCloseAsync(stream, cts.Token);
            var gone = await Assert.ThrowsAsync<StencilException>(() => Agent.PortForwardReadAsync(stream, cancellationToken: cts.Token));
            Assert.Equal(ErrorKind.NotFound, gone.Kind);

            // Closing a stream with a read pending in the guest ends that read (no reader waits forever).
            var idle = await Agent.PortForwardOpenAsync(8081, cts.Token);
            var pending = Agent.PortForwardReadAsync(idle, cancellationToken: cts.Token);
            await Task.Delay(200, cts.Token);
            Assert.False(pending.IsCompleted);
            await Agent.PortForwardCloseAsync(idle, cts.Token);
            Assert.True((await pending).IsEmpty);
        }
        finally
        {
            await Agent.RemoveContainerAsync("web", force: true);
        }
    }
}
