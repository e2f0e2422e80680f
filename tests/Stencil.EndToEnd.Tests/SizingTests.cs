using System.Text.RegularExpressions;

namespace Stencil.EndToEnd.Tests;

/// <summary>A container's CPU and memory limits grow its VM by hotplug (base size + limits).</summary>
[Collection(StencilCollection.Name)]
public sealed class SizingTests(StencilContainerd s)
{
    private const string Probe = "nproc; grep MemTotal /proc/meminfo";

    private static (int Cpus, long MemTotalKiB) Parse(string stdout)
    {
        var lines = stdout.Replace("\r", "").Trim().Split('\n');
        return (int.Parse(lines[0]), long.Parse(Regex.Match(lines[1], @"\d+").Value));
    }

    [Fact]
    public async Task Cpu_and_memory_limits_are_hot_added_to_the_vm()
    {
        var plain = await s.Ctr("run", "--rm", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, "e2e-size0", "sh", "-c", Probe);
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        var sized = await s.Ctr("run", "--rm", "--runtime", StencilContainerd.Runtime, "--cpus", "1", "--memory-limit", $"{256L << 20}",
            StencilContainerd.Image, "e2e-size1", "sh", "-c", Probe);
        Assert.True(sized.ExitCode == 0, sized.Stderr + "\n" + s.Containerd.ReadLog());

        var before = Parse(plain.Stdout);
        var after = Parse(sized.Stdout);
        Assert.Equal(1, before.Cpus);
        Assert.Equal(2, after.Cpus);
        // 256 MiB hot-added as DIMMs and onlined by the agent (a little goes to the kernel's page tables).
        Assert.InRange(after.MemTotalKiB - before.MemTotalKiB, 240 * 1024, 257 * 1024);
    }
}
