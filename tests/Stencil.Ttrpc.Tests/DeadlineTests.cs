using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class DeadlineTests
{
    [Fact]
    public async Task The_handler_sees_the_deadline_and_is_cancelled_at_it_and_the_caller_gets_DeadlineExceeded()
    {
        await using var c = await Connected.StartAsync();
        var sent = DateTimeOffset.UtcNow;
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(
            TestService.WaitForCancel, new Empty(), new TtrpcCallOptions { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);

        var (deadline, cancelledAt) = await c.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(deadline);
        Assert.InRange(deadline.Value, sent + TimeSpan.FromMilliseconds(250), sent + TimeSpan.FromSeconds(2));
        Assert.InRange(cancelledAt, deadline.Value - TimeSpan.FromMilliseconds(50), deadline.Value + TimeSpan.FromSeconds(2));
        Assert.Equal(0, c.Client.PendingCount);
    }

    [Fact]
    public async Task Without_a_timeout_the_handler_has_no_deadline()
    {
        await using var c = await Connected.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = c.Client.CallAsync(TestService.WaitForCancel, new Empty(), cancellationToken: cts.Token);
        var context = await c.Service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(context.Deadline);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task The_client_enforces_its_timeout_even_if_the_server_never_answers()
    {
        // The thread-blocking handler ignores its deadline, so only the client's own timer can end the call.
        await using var c = await Connected.StartAsync();
        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(
            TestService.BlockThread, new Empty(), new TtrpcCallOptions { Timeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);
        Assert.Equal("ttrpc call stencil.test.v1.Test.BlockThread: no response within the timeout of 00:00:00.2000000", ex.Message);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Equal(0, c.Client.PendingCount);
        c.Service.Release.Set();
        // The late answer finds no pending call and is dropped; the connection carries on.
        Assert.Equal("after", (await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "after" })).Value);
    }

    [Fact]
    public async Task A_call_that_finishes_in_time_succeeds()
    {
        await using var c = await Connected.StartAsync();
        var response = await c.Client.CallAsync(TestService.Delay, new Int32Value { Value = 10 },
            new TtrpcCallOptions { Timeout = TimeSpan.FromSeconds(10) });
        Assert.Equal(10, response.Value);
    }
}
