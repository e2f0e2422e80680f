using Stencil.Factory.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Vm;

/// <summary>The pool: paused clones made ahead of time, handed over with their own 9p export, refilled.</summary>
[Collection(TemplateCollection.Name)]
public sealed class PoolTests(TemplateFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_pooled_clone_is_handed_over_fixed_up_with_its_own_export_and_the_pool_refills()
    {
        var poolDirectory = Path.Combine(fixture.Root, "pool-test");
        var log = new TestLog();
        var factory = new VmFactory(fixture.Options with { PoolSize = 2, PoolDirectory = poolDirectory }, log);
        var request = fixture.Request("pooled");
        try
        {
            var pool = factory.StartPool();
            Assert.Same(pool, factory.Pool);
            await pool.WaitForReadyAsync(2, TimeSpan.FromSeconds(60));
            Assert.Equal(2, LeakCheck.QemuProcesses(poolDirectory).Count);
            foreach (var ready in ((Internal.VmPool)pool).ReadyVms)
                Assert.Equal("paused", await ready.QueryStatusAsync());

            await using (var vm = await factory.StartVmAsync(request))
            {
                output.WriteLine($"hand-over: {vm.StartupTime.TotalMilliseconds:F1} ms; export {vm.SharedDirectory}");
                Assert.Equal(VmOrigin.Pool, vm.Origin);
                Assert.Equal(Hypervisor.VmState.Running, vm.Qemu.State);
                Assert.True(await vm.Agent.CheckAsync());
                // The export was fixed when the clone's QEMU started: the pod must use the pool's folder.
                Assert.NotEqual(request.SharedDirectory, vm.SharedDirectory);
                Assert.StartsWith(poolDirectory + "/", vm.SharedDirectory);
                var shell = await GuestShell.OpenAsync(vm, vm.SharedDirectory!);
                await File.WriteAllTextAsync(Path.Combine(vm.SharedDirectory!, "rootfs", "marker"), "from the host\n");
                var (stdout, exit) = await shell.RunAsync("cat /marker; date -u +%s");
                Assert.Equal(0, exit);
                var lines = stdout.Split('\n');
                Assert.Equal("from the host", lines[0]);
                Assert.InRange(long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture),
                    DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 2);

                // The taken clone is replaced in the background.
                await pool.WaitForReadyAsync(2, TimeSpan.FromSeconds(60));
                Assert.Equal(3, LeakCheck.QemuProcesses(poolDirectory).Count);
                // The runtime empties the export before the VM goes (the factory removes it only when empty).
                Directory.Delete(Path.Combine(vm.SharedDirectory!, "rootfs"), recursive: true);
            }
            // The handed-over clone's folder went with it; the two ready ones remain until the pool stops.
            Assert.Equal(2, Directory.GetDirectories(poolDirectory).Length);
        }
        finally
        {
            await factory.DisposeAsync();
            Scratch.Remove(fixture.Root, "pooled");
        }
        output.WriteLine(log.Text);
        Assert.Empty(Directory.GetDirectories(poolDirectory));
        Directory.Delete(poolDirectory);
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
