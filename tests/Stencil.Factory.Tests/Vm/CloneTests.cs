using Stencil.Factory.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Vm;

/// <summary>Clones of the run's template: several at once, unique randomness, a fresh clock, hotplug.</summary>
[Collection(TemplateCollection.Name)]
public sealed class CloneTests(TemplateFixture fixture, ITestOutputHelper output)
{
    private VmFactory Factory => fixture.Factory;

    [Fact]
    public async Task Three_clones_at_once_each_answer_their_own_agent()
    {
        var servedBefore = (await Factory.GetStatusAsync()).Templates.Single().ClonesServed;
        var names = new[] { "three-a", "three-b", "three-c" };
        var vms = await Task.WhenAll(names.Select(n => Factory.StartVmAsync(fixture.Request(n))));
        try
        {
            foreach (var vm in vms)
            {
                output.WriteLine($"{vm.Name}: {vm.Describe()}, pid {vm.ProcessId}");
                Assert.Equal(VmOrigin.TemplateClone, vm.Origin);
                Assert.Equal(fixture.Template.Fingerprint, vm.TemplateFingerprint);
                Assert.True(await vm.Agent.CheckAsync());
            }
            Assert.Equal(3, vms.Select(v => v.ProcessId).Distinct().Count());
            Assert.Equal(servedBefore + 3, (await Factory.GetStatusAsync()).Templates.Single().ClonesServed);
        }
        finally
        {
            foreach (var vm in vms)
                await vm.DisposeAsync();
            foreach (var n in names)
                Scratch.Remove(fixture.Root, n);
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    /// <summary>
    /// Five clones of one template each read 16 bytes from /dev/urandom first thing (in a busybox
    /// container over the clone's 9p share: the agent has no exec outside a container). Without
    /// vmgenid and the reseed every clone would print the same bytes.
    /// </summary>
    [Fact]
    public async Task Five_clones_read_different_random_bytes()
    {
        var samples = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var name = "rng-" + i;
            var request = fixture.Request(name);
            try
            {
                await using var vm = await Factory.StartVmAsync(request);
                Assert.Equal(VmOrigin.TemplateClone, vm.Origin);
                var shell = await GuestShell.OpenAsync(vm, request.SharedDirectory!);
                var (stdout, exit) = await shell.RunAsync("head -c 16 /dev/urandom | od -A n -t x1");
                Assert.Equal(0, exit);
                var sample = string.Concat(stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
                Assert.Equal(32, sample.Length);
                output.WriteLine($"{name}: {sample}");
                samples.Add(sample);
            }
            finally
            {
                Scratch.Remove(fixture.Root, name);
            }
        }
        Assert.Equal(5, samples.Distinct().Count());
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    /// <summary>
    /// A clone wakes up with the clock of the moment its template was saved; the factory sets it from
    /// the host's. The test waits until the template is at least 5 s old, so a stale clock shows.
    /// </summary>
    [Fact]
    public async Task A_clone_clock_is_within_2_seconds_of_the_host()
    {
        var wait = fixture.Template.Created + TimeSpan.FromSeconds(5) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        var request = fixture.Request("clock");
        try
        {
            await using var vm = await Factory.StartVmAsync(request);
            var shell = await GuestShell.OpenAsync(vm, request.SharedDirectory!);
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            var (stdout, exit) = await shell.RunAsync("date -u +%s");
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            Assert.Equal(0, exit);
            var guest = double.Parse(stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            output.WriteLine($"host {before:F1}..{after:F1}, guest {guest} (template saved {fixture.Template.Created.ToUnixTimeSeconds()})");
            // date prints whole seconds: the guest second lies within [before - 1, after].
            Assert.InRange(guest, before - 2 - 1, after + 2);
        }
        finally
        {
            Scratch.Remove(fixture.Root, "clock");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task A_clone_takes_a_hot_plugged_disk_vcpu_and_memory()
    {
        var request = fixture.Request("hotplug");
        var image = Path.Combine(fixture.Root, "hotplug", "disk.img");
        await File.WriteAllBytesAsync(image, new byte[8 << 20]);
        try
        {
            await using var vm = await Factory.StartVmAsync(request);
            var shell = await GuestShell.OpenAsync(vm, request.SharedDirectory!);

            var serial = await vm.AttachDiskAsync(image, readOnly: true);
            var (disks, _) = await shell.RunAsync("for d in /sys/block/vd*; do echo $(basename $d) $(cat $d/serial) $(cat $d/size) $(cat $d/ro); done");
            output.WriteLine($"disk {serial}: {disks.Trim()}");
            Assert.Contains($" {serial} {(8 << 20) / 512} 1", disks);

            var before = await vm.Agent.GetGuestDetailsAsync();
            Assert.Equal(1, before.CpusOnline);
            await vm.ResizeAsync(vcpus: 2, memoryMiB: 512);
            var after = await vm.Agent.GetGuestDetailsAsync();
            output.WriteLine($"before: {before.CpusOnline} vCPUs, {before.MemoryTotalBytes >> 20} MiB; after: {after.CpusOnline} vCPUs, {after.MemoryTotalBytes >> 20} MiB");
            Assert.Equal(2, after.CpusOnline);
            Assert.Equal(2, await vm.Qemu.QueryCpuCountAsync());
            Assert.InRange(after.MemoryTotalBytes, before.MemoryTotalBytes + (230UL << 20), before.MemoryTotalBytes + (256UL << 20));
            var (nproc, _) = await shell.RunAsync("grep -c ^processor /proc/cpuinfo");
            Assert.Equal("2", nproc.Trim());

            // Asking for more than the description allows is refused with the limit named.
            var tooMany = await Assert.ThrowsAsync<StencilException>(() => vm.ResizeAsync(vcpus: 3, memoryMiB: 512));
            Assert.Equal(ErrorKind.ResourceExhausted, tooMany.Kind);
            Assert.Contains("at most 2", tooMany.Message);

            await vm.DetachDiskAsync(serial);
            var (left, _) = await shell.RunAsync("cat /sys/block/vd*/serial 2>/dev/null; true");
            Assert.DoesNotContain(serial, left);
        }
        finally
        {
            Scratch.Remove(fixture.Root, "hotplug");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
