using System.Globalization;
using Stencil.Factory.Client;
using Stencil.Factory.Daemon;
using Stencil.Factory.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Vm;

/// <summary>
/// The node-wide factory daemon with real QEMU: a daemon's pool hands paused clones to another
/// VmFactory (as a shim's would be) over its gRPC socket; each is attached, resumed and fixed up
/// there. The daemon runs in this process, so its clones are this process's children, as they are
/// the daemon's on a node; the shim side adopts them through a pidfd as it does there.
/// </summary>
[Collection(TemplateCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FactoryDaemonTests(TemplateFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Handed_over_clones_are_distinct_fixed_up_and_outlive_a_daemon_restart()
    {
        var root = Path.Combine(fixture.Root, "daemon");
        Directory.CreateDirectory(root);
        var poolDirectory = Path.Combine(root, "pool");
        var daemonOptions = new FactoryDaemonOptions { SocketPath = Path.Combine(root, "f.sock"), MetricsSocketPath = Path.Combine(root, "fm.sock") };
        var log = new TestLog();
        var vms = new List<FactoryVm>();
        FactoryDaemon? daemon = null;
        try
        {
            daemon = await FactoryDaemon.StartAsync(new VmFactory(fixture.Options with { PoolSize = 2, PoolDirectory = poolDirectory }, log), daemonOptions, log);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(daemonOptions.SocketPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(daemonOptions.MetricsSocketPath));
            await daemon.WaitForReadyAsync(2, TimeSpan.FromSeconds(120));
            // Ready clones are made and wait at the lowest CPU priority.
            foreach (var pid in LeakCheck.QemuProcesses(poolDirectory))
                Assert.All(ThreadNices(pid), n => Assert.Equal(19, n));
            var fingerprint = await fixture.Factory.GetFingerprintAsync();

            // A request naming another template gets nothing (and no clone is spent on it).
            var stale = await FactoryDaemonClient.TakeCloneAsync(daemonOptions.SocketPath, "0123456789abcdef0123", fixture.Factory.ProcessSettings, "stale",
                TimeSpan.FromSeconds(5));
            Assert.Null(stale.Handed);
            Assert.Contains("template differs", stale.Reason, StringComparison.Ordinal);
            // So does one of the same template whose QEMU is to run with another TCG code buffer: the pool's clones run with the daemon's.
            var otherSettings = Hypervisor.QemuCommandLine.ProcessSettingsText(fixture.Options.Description with { TcgTranslationCacheMiB = 16 });
            var differing = await FactoryDaemonClient.TakeCloneAsync(daemonOptions.SocketPath, fingerprint, otherSettings, "dense", TimeSpan.FromSeconds(5));
            Assert.Null(differing.Handed);
            Assert.Contains("QEMU process settings differ", differing.Reason, StringComparison.Ordinal);
            Assert.Contains("tcg translation cache: the daemon's qemu default, dense's 16 MiB", differing.Reason, StringComparison.Ordinal);
            var refusedMetrics = daemon.MetricsText();
            Assert.Contains("stencil_factory_pool_ready 2\n", refusedMetrics, StringComparison.Ordinal); // no clone spent on either
            Assert.Contains("stencil_factory_not_served_total{reason=\"settings_mismatch\"} 1\n", refusedMetrics, StringComparison.Ordinal);

            var samples = new List<(string Random, double Clock, string GenId)>();
            for (var i = 0; i < 2; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var answer = await FactoryDaemonClient.TakeCloneAsync(daemonOptions.SocketPath, fingerprint, fixture.Factory.ProcessSettings, "test-" + i, TimeSpan.FromSeconds(5));
                Assert.True(answer.Handed is not null, answer.Reason);
                var vm = await fixture.Factory.AttachHandedOverAsync(answer.Handed, fixture.Request("daemon-" + i), clock);
                vms.Add(vm);
                output.WriteLine($"clone {answer.Handed.Name} pid {answer.Handed.ProcessId}: hand-over {vm.StartupTime.TotalMilliseconds:F1} ms");
                Assert.Equal(VmOrigin.Pool, vm.Origin);
                Assert.Equal(Hypervisor.VmState.Running, vm.Qemu.State);
                Assert.All(ThreadNices(answer.Handed.ProcessId), n => Assert.Equal(0, n)); // a pod's VM runs at normal priority
                Assert.StartsWith(poolDirectory + "/", vm.SharedDirectory, StringComparison.Ordinal);
                var shell = await GuestShell.OpenAsync(vm, vm.SharedDirectory!);
                var (stdout, exit) = await shell.RunAsync("head -c 16 /dev/urandom | od -A n -t x1; date -u +%s");
                Assert.Equal(0, exit);
                var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                var random = string.Concat(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                var guestClock = double.Parse(lines[1].Trim(), CultureInfo.InvariantCulture);
                var genId = File.ReadAllText($"/proc/{answer.Handed.ProcessId}/cmdline").Split('\0').Single(a => a.StartsWith("vmgenid,", StringComparison.Ordinal));
                samples.Add((random, guestClock, genId));
                output.WriteLine($"  random {random}, guest clock {guestClock}, host {DateTimeOffset.UtcNow.ToUnixTimeSeconds()}, {genId}");
                Assert.InRange(guestClock, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 2, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            }
            Assert.Equal(2, samples.Select(s => s.Random).Distinct().Count());
            // Each pooled clone ran the OCI runtime once while it was made (and the containers above still ran).
            Assert.Contains(log.Lines, l => l.Contains("warmed up (the OCI runtime ran once in", StringComparison.Ordinal));
            Assert.DoesNotContain(log.Lines, l => l.Contains("warm-up run failed", StringComparison.Ordinal));
            Assert.Equal(2, samples.Select(s => s.GenId).Distinct().Count());

            // The daemon goes (its own ready clones with it); the handed-over ones keep running.
            await daemon.DisposeAsync();
            daemon = null;
            Assert.False(File.Exists(daemonOptions.SocketPath));
            foreach (var vm in vms)
            {
                Assert.True(await vm.Agent.CheckAsync());
                Assert.Equal("running", await vm.Qemu.QueryStatusAsync());
            }
            Assert.Equal(2, LeakCheck.QemuProcesses(poolDirectory).Count);

            // A restarted daemon cleans only what is its own, and refills.
            daemon = await FactoryDaemon.StartAsync(new VmFactory(fixture.Options with { PoolSize = 1, PoolDirectory = poolDirectory }, log), daemonOptions, log);
            await daemon.WaitForReadyAsync(1, TimeSpan.FromSeconds(120));
            foreach (var vm in vms)
                Assert.True(await vm.Agent.CheckAsync());
            var metrics = daemon.MetricsText();
            output.WriteLine(metrics);
            Assert.Contains("stencil_factory_pool_ready 1\n", metrics, StringComparison.Ordinal);
        }
        finally
        {
            if (daemon is not null)
                await daemon.DisposeAsync();
            foreach (var vm in vms)
            {
                if (vm.SharedDirectory is { } shared && Directory.Exists(Path.Combine(shared, "rootfs")))
                    Directory.Delete(Path.Combine(shared, "rootfs"), recursive: true);
                await vm.DisposeAsync();
            }
            output.WriteLine(log.Text);
        }
        Assert.Empty(Directory.Exists(poolDirectory) ? Directory.GetDirectories(poolDirectory) : []);
        Directory.Delete(root, recursive: true);
        for (var i = 0; i < 2; i++)
            Scratch.Remove(fixture.Root, "daemon-" + i);
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    /// <summary>The nice value (field 19 of /proc/PID/task/TID/stat) of each of the process's threads.</summary>
    private static List<int> ThreadNices(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task").Select(t =>
        {
            var stat = File.ReadAllText(Path.Combine(t, "stat"));
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], CultureInfo.InvariantCulture);
        })];

    [Fact]
    public async Task A_template_change_drains_the_pool_and_never_serves_an_old_clone()
    {
        var root = Path.Combine(fixture.Root, "daemon-change");
        Directory.CreateDirectory(root);
        var poolDirectory = Path.Combine(root, "pool");
        var socket = Path.Combine(root, "f.sock");
        var log = new TestLog();
        // The daemon's own copy of the kernel: touching it changes the daemon's fingerprint only.
        var kernel = Path.Combine(root, "vmlinux");
        File.Copy(fixture.Options.Description.Kernel!.KernelPath, kernel);
        // Its own template folder too: the new template must not replace the collection's shared one.
        var options = fixture.Options with
        {
            TemplatePath = Path.Combine(root, "template"),
            PoolSize = 1,
            PoolDirectory = poolDirectory,
            Description = fixture.Options.Description with { Kernel = fixture.Options.Description.Kernel with { KernelPath = kernel } },
        };
        var shimSide = new VmFactory(options with { PoolSize = 0 }, log);
        FactoryDaemon? daemon = null;
        try
        {
            daemon = await FactoryDaemon.StartAsync(new VmFactory(options, log), new FactoryDaemonOptions
            {
                SocketPath = socket,
                FingerprintCheckInterval = TimeSpan.FromMilliseconds(200),
            }, log);
            await daemon.WaitForReadyAsync(1, TimeSpan.FromSeconds(120));
            var before = await shimSide.GetFingerprintAsync();
            await File.AppendAllTextAsync(kernel, "changed");
            var after = await shimSide.GetFingerprintAsync();
            Assert.NotEqual(before, after);

            // Asked at once (before the watcher ran): the old clone is not of the asker's template.
            var answer = await FactoryDaemonClient.TakeCloneAsync(socket, after, shimSide.ProcessSettings, "after-change", TimeSpan.FromSeconds(5));
            Assert.Null(answer.Handed);
            output.WriteLine(answer.Reason);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!log.Text.Contains("draining the pool", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            Assert.Contains("draining the pool", log.Text, StringComparison.Ordinal);
            var old = await FactoryDaemonClient.TakeCloneAsync(socket, before, shimSide.ProcessSettings, "before-change", TimeSpan.FromSeconds(5));
            Assert.Null(old.Handed);
        }
        finally
        {
            if (daemon is not null)
                await daemon.DisposeAsync();
            await shimSide.DestroyAsync();
            await shimSide.DisposeAsync();
            output.WriteLine(log.Text);
        }
        Directory.Delete(root, recursive: true);
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
