using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>The agent's port when the host goes away and comes back, and what an idle guest costs.</summary>
[Collection(GuestVmCollection.Name)]
public sealed class ConnectionTests(GuestVmFixture vm, ITestOutputHelper output)
{
    [Fact]
    public async Task Host_can_disconnect_and_reconnect()
    {
        for (var i = 0; i < 3; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await vm.ReconnectAsync();
            Assert.True(await vm.Agent.CheckAsync());
            output.WriteLine($"reconnect {i}: {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        // A request pending when the host leaves does not leak into the next connection.
        var pending = vm.Agent.GetOomEventAsync();
        await vm.ReconnectAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        Assert.Equal("ok\n", (await vm.RunAsync("after-reconnect", "echo", "ok")).Stdout);
    }

    [Fact]
    public async Task Idle_guest_costs_little_connected_or_not()
    {
        var window = TimeSpan.FromSeconds(10);
        Assert.True(await vm.Agent.CheckAsync());
        await Task.Delay(500);
        var connected = await MeasureAsync(window);
        await vm.DisconnectAsync();
        await Task.Delay(500);
        double disconnected;
        try
        {
            disconnected = await MeasureAsync(window);
        }
        finally
        {
            await vm.ReconnectAsync();
        }
        output.WriteLine($"idle QEMU CPU over {window.TotalSeconds:F0} s: connected {connected:F2}%, disconnected {disconnected:F2}% of a host core");
        // The goal is well under 1%; the bound leaves room for a busy, shared test machine.
        Assert.True(connected < 5, $"connected: {connected:F2}% of a core");
        Assert.True(disconnected < 5, $"disconnected: {disconnected:F2}% of a core (a polling agent costs ~20%)");
    }

    private async Task<double> MeasureAsync(TimeSpan window)
    {
        var cpu0 = vm.Vm.CpuTime();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(window);
        return (vm.Vm.CpuTime() - cpu0).TotalMilliseconds / clock.Elapsed.TotalMilliseconds * 100;
    }
}
