using System.Text;
using Stencil.Agent.Client;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

[Collection(GuestVmCollection.Name)]
public sealed class GuestTests(GuestVmFixture vm, ITestOutputHelper output)
{
    private AgentClient Agent => vm.Agent;

    [Fact]
    public async Task Details_describe_the_guest()
    {
        var d = await Agent.GetGuestDetailsAsync();
        Assert.StartsWith("6.", d.KernelRelease);
        Assert.InRange(d.MemoryTotalBytes, 300UL << 20, 512UL << 20);
        Assert.Equal(1, d.CpusOnline);
        Assert.NotEmpty(d.OciRuntimes);
        Assert.InRange(d.AgentRssBytes, 1UL << 20, 200UL << 20);
        var version = await Agent.VersionAsync();
        Assert.Equal(d.AgentVersion, version.AgentVersion);
        output.WriteLine($"guest: {d}");
        output.WriteLine($"agent RSS in the guest: {d.AgentRssBytes / 1048576.0:F1} MiB; boot to Health.Check: {vm.BootTime.TotalSeconds:F2} s");
        var online = await Agent.OnlineCpuMemAsync(wantCpus: 1);
        Assert.Equal(1, online.CpusOnline);
        Assert.Equal(0, online.CpusOnlined);
    }

    [Fact]
    public async Task Reseed_then_urandom_differs_and_clock_is_set()
    {
        string[] read = ["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1"];
        var before = (await vm.RunAsync("rand0", read)).Stdout;
        var seed = new byte[512];
        System.Security.Cryptography.RandomNumberGenerator.Fill(seed);
        await Agent.ReseedRandomDevAsync(seed);
        var after1 = (await vm.RunAsync("rand1", read)).Stdout;
        var after2 = (await vm.RunAsync("rand2", read)).Stdout;
        Assert.Equal(3, new[] { before, after1, after2 }.Distinct().Count());
        Assert.All(new[] { before, after1, after2 }, s => Assert.True(s.Trim().Length >= 64, s));

        var target = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);
        try
        {
            await Agent.SetGuestDateTimeAsync(target);
            var seen = long.Parse((await vm.RunAsync("date", "date", "-u", "+%s")).Stdout.Trim());
            Assert.InRange(seen, target.ToUnixTimeSeconds(), target.ToUnixTimeSeconds() + 60);
        }
        finally
        {
            await Agent.SetGuestDateTimeAsync(DateTimeOffset.UtcNow);
        }
    }

    [Fact]
    public async Task Hostname_comes_from_the_sandbox()
    {
        // Without a UTS namespace of its own, a container sees the guest's hostname, set by CreateSandbox.
        var spec = TestSpecs.Spec(["hostname"]);
        spec.Remove("hostname");
        var namespaces = spec["linux"]!["namespaces"]!.AsArray();
        namespaces.Remove(namespaces.First(n => (string?)n!["type"] == "uts"));
        await vm.CreateAsync("hostname", Encoding.UTF8.GetBytes(spec.ToJsonString()));
        try
        {
            await Agent.StartContainerAsync("hostname");
            Assert.Equal("stencil-test\n", await vm.ReadAllAsync("hostname"));
            Assert.Equal(0, (await vm.WaitAsync("hostname")).ExitCode);
        }
        finally
        {
            await Agent.RemoveContainerAsync("hostname", force: true);
        }
    }
}
