using Stencil.Agent.Guest;
using Stencil.TestSupport;

namespace Stencil.Agent.Tests.Host;

/// <summary>The link watch against the real kernel (on the host, as root): a new device wakes it.</summary>
public sealed class LinkWatchTests
{
    [Fact]
    public async Task A_new_network_device_wakes_the_watch()
    {
        var ip = Prerequisite.Executable("ip", "apt-get install iproute2");
        var name = $"stlw{Environment.ProcessId % 100000}";
        using var watch = LinkWatch.TryOpen();
        Assert.NotNull(watch);
        var wait = watch.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        (await ChildProcess.RunAsync(ip, ["link", "add", name, "type", "veth", "peer", "name", name + "p"], TimeSpan.FromSeconds(10))).EnsureSuccess("ip link add");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await wait.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"woke after {clock.Elapsed.TotalSeconds:F1} s: the timeout, not the device");
            Assert.True(Directory.Exists($"/sys/class/net/{name}"));
        }
        finally
        {
            await ChildProcess.RunAsync(ip, ["link", "del", name], TimeSpan.FromSeconds(10));
        }
    }
}
