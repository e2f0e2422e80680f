using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class CancellationTests
{
    [Fact]
    public async Task Cancelling_a_pending_call_throws_OperationCanceled_and_removes_its_entry()
    {
        await using var c = await Connected.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = c.Client.CallAsync(TestService.WaitForCancel, new Empty(), cancellationToken: cts.Token);
        await c.Service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, c.Client.PendingCount);

        cts.Cancel();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(0, c.Client.PendingCount);
        Assert.Equal("next", (await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "next" })).Value);
    }

    [Fact]
    public async Task An_already_cancelled_token_sends_nothing()
    {
        await using var c = await Connected.StartAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            c.Client.CallAsync(TestService.WaitForCancel, new Empty(), cancellationToken: new CancellationToken(true)));
        Assert.Equal(0, c.Client.PendingCount);
        await Task.Delay(100);
        Assert.False(c.Service.WaitStarted.Task.IsCompleted);
    }

    [Fact]
    public async Task When_the_client_goes_away_running_handlers_are_cancelled()
    {
        await using var c = await Connected.StartAsync();
        _ = c.Client.CallAsync(TestService.WaitForCancel, new Empty());
        var context = await c.Service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(context.CancellationToken.IsCancellationRequested);

        await c.Client.DisposeAsync();
        await c.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(context.CancellationToken.IsCancellationRequested);
        await c.Serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stopping_the_server_cancels_handlers_and_ends_ServeConnectionAsync_normally()
    {
        var (client, server) = await SocketPair.CreateAsync();
        var service = new TestService();
        await using var ttrpcServer = service.CreateServer();
        using var stop = new CancellationTokenSource();
        var serving = ttrpcServer.ServeConnectionAsync(new System.Net.Sockets.NetworkStream(server, ownsSocket: true), stop.Token);
        await using var ttrpcClient = new TtrpcClient(new System.Net.Sockets.NetworkStream(client, ownsSocket: true));

        var call = ttrpcClient.CallAsync(TestService.WaitForCancel, new Empty());
        await service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Cancel();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(service.WaitCancelled.Task.IsCompleted);

        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
    }
}
