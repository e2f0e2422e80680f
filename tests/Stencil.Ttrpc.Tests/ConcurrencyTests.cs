using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class ConcurrencyTests
{
    [Fact]
    public async Task Many_calls_in_flight_each_get_their_own_response()
    {
        await using var c = await Connected.StartAsync();
        var calls = Enumerable.Range(0, 500)
            .Select(i => c.Client.CallAsync(TestService.Echo, new StringValue { Value = $"call {i}" }))
            .ToArray();
        var responses = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"call {i}"), responses.Select(r => r.Value));
        Assert.Equal(0, c.Client.PendingCount);
    }

    [Fact]
    public async Task Calls_from_many_threads_at_once_do_not_interleave_frames()
    {
        await using var c = await Connected.StartAsync();
        var payload = new string('p', 100_000); // large enough to span many socket writes
        var calls = Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var value = $"{t}/{i}/{payload}";
                Assert.Equal(value, (await c.Client.CallAsync(TestService.Echo, new StringValue { Value = value })).Value);
            }
        }));
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_fast_call_is_answered_while_an_earlier_slow_one_is_pending()
    {
        await using var c = await Connected.StartAsync();
        var slow = c.Client.CallAsync(TestService.Delay, new Int32Value { Value = 2_000 });
        var fast = await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "fast" }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("fast", fast.Value);
        Assert.False(slow.IsCompleted);
        Assert.Equal(2_000, (await slow.WaitAsync(TimeSpan.FromSeconds(10))).Value);
    }

    [Fact]
    public async Task Replies_arrive_out_of_order_and_still_match_their_calls()
    {
        await using var c = await Connected.StartAsync();
        var delays = new[] { 600, 50, 400, 0, 200 };
        var calls = delays.Select(d => c.Client.CallAsync(TestService.Delay, new Int32Value { Value = d })).ToArray();
        var finished = new List<int>();
        foreach (var call in calls.Select(t => t.ContinueWith(r => { lock (finished) finished.Add(r.Result.Value); return r.Result.Value; })))
            _ = call;
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(delays, results.Select(r => r.Value));
        await Task.Delay(50);
        lock (finished)
            Assert.Equal(delays.Order(), finished);
    }

    [Fact]
    public async Task A_handler_blocking_its_thread_does_not_hold_up_other_calls()
    {
        await using var c = await Connected.StartAsync();
        var blocked = c.Client.CallAsync(TestService.BlockThread, new Empty());
        for (var i = 0; i < 20; i++)
            Assert.Equal("still served", (await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "still served" }).WaitAsync(TimeSpan.FromSeconds(10))).Value);
        Assert.False(blocked.IsCompleted);
        c.Service.Release.Set();
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
