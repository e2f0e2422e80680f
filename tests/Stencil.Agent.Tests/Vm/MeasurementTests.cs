using System.Diagnostics;
using Stencil.Agent.Client;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>Timings through the agent, printed to the test output (noisy on a shared machine; bounds are loose).</summary>
[Collection(GuestVmCollection.Name)]
public sealed class MeasurementTests(GuestVmFixture vm, ITestOutputHelper output)
{
    private AgentClient Agent => vm.Agent;

    [Fact]
    public async Task Stdout_throughput_of_64_MiB()
    {
        const long size = 64L << 20;
        // dd writes 1 MiB at a time; busybox head -c alone tops out near 35 MiB/s under TCG, and it
        // shares the guest's one vCPU with the agent.
        await vm.CreateAsync("zeros", ["dd", "if=/dev/zero", "bs=1M", "count=64", "status=none"]);
        try
        {
            await Agent.StartContainerAsync("zeros");
            var clock = Stopwatch.StartNew();
            long copied = 0;
            var chunks = 0;
            while (true)
            {
                var chunk = await Agent.ReadStdoutAsync("zeros", null);
                if (chunk.IsEmpty)
                    break;
                copied += chunk.Length;
                chunks++;
            }
            output.WriteLine($"{chunks} chunks, average {copied / Math.Max(1, chunks)} bytes");
            var seconds = clock.Elapsed.TotalSeconds;
            Assert.Equal(size, copied);
            Assert.Equal(0, (await vm.WaitAsync("zeros")).ExitCode);
            var rate = size / 1048576.0 / seconds;
            output.WriteLine($"stdout throughput: 64 MiB in {seconds:F2} s = {rate:F1} MiB/s");
            Assert.True(rate > 5, $"{rate:F1} MiB/s");
        }
        finally
        {
            await Agent.RemoveContainerAsync("zeros", force: true);
        }
    }

    [Fact]
    public async Task Round_trip_of_a_health_check()
    {
        for (var i = 0; i < 20; i++)
            await Agent.CheckAsync();
        var clock = Stopwatch.StartNew();
        const int calls = 200;
        for (var i = 0; i < calls; i++)
            Assert.True(await Agent.CheckAsync());
        var ms = clock.Elapsed.TotalMilliseconds / calls;
        output.WriteLine($"Health.Check round trip: {ms:F2} ms (mean of {calls})");
        Assert.True(ms < 100, $"{ms:F2} ms");
    }

    [Fact]
    public async Task Create_start_wait_of_true_per_runtime()
    {
        var runtimes = (await Agent.GetGuestDetailsAsync()).OciRuntimes;
        foreach (var runtime in runtimes)
        {
            var times = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                var id = $"true-{runtime}-{i}";
                var clock = Stopwatch.StartNew();
                await vm.CreateAsync(id, TestSpecs.SpecJson(["true"]), runtime);
                await Agent.StartContainerAsync(id);
                var exit = await vm.WaitAsync(id);
                times.Add(clock.Elapsed.TotalMilliseconds);
                Assert.Equal(0, exit.ExitCode);
                await Agent.RemoveContainerAsync(id);
            }
            times.Sort();
            var median = (times[4] + times[5]) / 2;
            output.WriteLine($"{runtime}: create+start+wait of `true`: median {median:F0} ms (min {times[0]:F0}, max {times[^1]:F0}) over 10");
            Assert.True(median < 10_000, $"{runtime}: {median:F0} ms");
        }
    }
}
