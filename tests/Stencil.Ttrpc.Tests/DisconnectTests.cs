using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class DisconnectTests
{
    [Fact]
    public async Task Losing_the_connection_fails_every_pending_call_with_Unavailable()
    {
        await using var c = await Connected.StartAsync();
        var pending = Enumerable.Range(0, 10)
            .Select(_ => c.Client.CallAsync(TestService.Delay, new Int32Value { Value = 60_000 }))
            .ToArray();
        while (c.Client.PendingCount < 10)
            await Task.Delay(10);

        await c.StopServerAsync();

        var messages = new HashSet<string>();
        foreach (var call in pending)
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(ErrorKind.Unavailable, ex.Kind);
            messages.Add(ex.Message);
        }
        // Every call fails with the one reason the connection ended: end of stream, or a reset or broken
        // pipe when the server went away with some of the last requests unread.
        var message = Assert.Single(messages);
        Assert.Matches("^ttrpc connection closed: (end of stream|(read|write) failed: .*(reset|Broken pipe).*)$", message);
        await c.Client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, c.Client.PendingCount);
    }

    [Fact]
    public async Task Calls_after_the_connection_is_lost_fail_at_once_with_the_reason()
    {
        await using var c = await Connected.StartAsync();
        await c.StopServerAsync();
        await c.Client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.Echo, new StringValue()));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Equal("ttrpc connection closed: end of stream", ex.Message);
    }

    [Fact]
    public async Task Disposing_the_client_fails_its_pending_calls_and_completes_Closed()
    {
        await using var c = await Connected.StartAsync();
        var call = c.Client.CallAsync(TestService.WaitForCancel, new Empty());
        await c.Service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await c.Client.DisposeAsync();
        await c.Client.DisposeAsync(); // twice is fine

        var ex = await Assert.ThrowsAsync<StencilException>(() => call);
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Equal("ttrpc connection closed: client disposed", ex.Message);
        Assert.True(c.Client.Closed.IsCompletedSuccessfully);
    }
}
