using System.Globalization;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// `stencil factory serve` (the NativeAOT binary) beside a private containerd: shims take paused
/// clones from it over its socket ([factory] daemon_socket in the test's configuration), a burst
/// larger than the pool falls back to template clones at once, and the daemon killed and restarted
/// under a live pod leaves the pod running and leaks nothing.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class FactoryDaemonTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    [Fact]
    public async Task Shims_take_pooled_clones_fall_back_on_a_burst_and_outlive_a_killed_daemon()
    {
        var daemon = await FactoryDaemonProcess.StartAsync(s.ConfigPath, 1, CancellationToken.None);
        try
        {

            // A burst of two against a pool of one: one pooled clone, one template clone, neither waits for the refill.
            var runs = await Task.WhenAll(new[] { "a", "b" }.Select(n =>
                s.Ctr("run", "--rm", "--runtime", R, I, "e2e-pool-" + n, "sh", "-c", "head -c 16 /dev/urandom | od -A n -t x1; date -u +%s")));
            foreach (var r in runs)
                Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");
            var randoms = runs.Select(r => r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Replace(" ", "", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, randoms.Distinct().Count());
            foreach (var r in runs)
            {
                var guest = long.Parse(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim(), CultureInfo.InvariantCulture);
                Assert.InRange(guest, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            }
            var log = s.Containerd.ReadLog();
            Assert.Contains("from the factory daemon: hand-over", log, StringComparison.Ordinal);
            Assert.Contains("cloning the template here: the factory daemon had no clone", log, StringComparison.Ordinal);
            var metrics = await daemon.MetricsAsync();
            Assert.Contains("stencil_factory_handovers_total 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("stencil_factory_not_served_total{reason=\"pool_empty\"} 1\n", metrics, StringComparison.Ordinal);

            // A live pod from the pool survives the daemon's SIGKILL and its restart.
            await daemon.WaitForReadyAsync(1, CancellationToken.None);
            var started = await s.Ctr("run", "-d", "--runtime", R, I, "e2e-pool-live", "sleep", "600");
            Assert.True(started.ExitCode == 0, started.Stderr);
            await daemon.KillAsync();
            daemon = await FactoryDaemonProcess.StartAsync(s.ConfigPath, 1, CancellationToken.None);
            var exec = await s.Ctr("task", "exec", "--exec-id", "e1", "e2e-pool-live", "echo", "alive");
            Assert.True(exec.ExitCode == 0, exec.Stderr);
            Assert.Equal("alive", exec.Stdout.Trim());
            await s.Ctr("task", "kill", "-s", "KILL", "e2e-pool-live");
            await s.Ctr("task", "rm", "-f", "e2e-pool-live");
            await s.Ctr("containers", "rm", "e2e-pool-live");
        }
        finally
        {
            await daemon.DisposeAsync(); // SIGTERM, as systemd stops it: the daemon discards its ready clones
        }
        // The stopped daemon discarded its ready clone; the pods' clones went with their pods.
        await Eventually.NothingLeftAsync(s);
        var pool = Path.Combine(s.StateDir, "factory-pool");
        Assert.Empty(Directory.Exists(pool) ? Directory.GetDirectories(pool) : []);
    }
}
