using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// Cold boot to the agent's first Health.Check answer, on fresh VMs (not the shared one).
/// STENCIL_AGENT_BOOT_SAMPLES (default 1) sets how many boots to take the median of.
/// </summary>
public sealed class BootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cold_boot_until_the_agent_answers()
    {
        var samples = int.TryParse(Environment.GetEnvironmentVariable("STENCIL_AGENT_BOOT_SAMPLES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
        var times = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var vm = await TestVm.StartAsync(new TestVmOptions());
            await using var agent = await vm.ConnectAsync(TimeSpan.FromSeconds(120));
            times.Add(clock.Elapsed.TotalSeconds);
            Assert.True(await agent.CheckAsync());
            if (i == 0)
                output.WriteLine($"agent RSS right after boot: {(await agent.GetGuestDetailsAsync()).AgentRssBytes / 1048576.0:F1} MiB");
        }
        times.Sort();
        var median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        output.WriteLine($"cold boot to Health.Check: median {median:F2} s over {samples} ({string.Join(", ", times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))})");
        Assert.True(median < 60, $"{median:F2} s");
    }
}
