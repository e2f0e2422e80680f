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
        var cli = ShimBinaries.RequireCli();
        var daemon = StartDaemon(cli);
        try
        {
            await WaitForReadyAsync(cli, 1);

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
            var metrics = await MetricsAsync(cli);
            Assert.Contains("stencil_factory_handovers_total 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("stencil_factory_not_served_total{reason=\"pool_empty\"} 1\n", metrics, StringComparison.Ordinal);

            // A live pod from the pool survives the daemon's SIGKILL and its restart.
            await WaitForReadyAsync(cli, 1);
            var started = await s.Ctr("run", "-d", "--runtime", R, I, "e2e-pool-live", "sleep", "600");
            Assert.True(started.ExitCode == 0, started.Stderr);
            await daemon.DisposeAsync(); // SIGKILL
            daemon = StartDaemon(cli);
            await WaitForReadyAsync(cli, 1);
            var exec = await s.Ctr("task", "exec", "--exec-id", "e1", "e2e-pool-live", "echo", "alive");
            Assert.True(exec.ExitCode == 0, exec.Stderr);
            Assert.Equal("alive", exec.Stdout.Trim());
            await s.Ctr("task", "kill", "-s", "KILL", "e2e-pool-live");
            await s.Ctr("task", "rm", "-f", "e2e-pool-live");
            await s.Ctr("containers", "rm", "e2e-pool-live");
        }
        finally
        {
            await StopAsync(daemon);
        }
        // The stopped daemon discarded its ready clone; the pods' clones went with their pods.
        await Eventually.NothingLeftAsync(s);
        var pool = Path.Combine(s.StateDir, "factory-pool");
        Assert.Empty(Directory.Exists(pool) ? Directory.GetDirectories(pool) : []);
    }

    private ChildProcess StartDaemon(string cli) => ChildProcess.Start(cli, ["--config", s.ConfigPath, "factory", "serve", "--pool-size", "1"]);

    private async Task<string> MetricsAsync(string cli)
    {
        var r = await ChildProcess.RunAsync(cli, ["--config", s.ConfigPath, "factory", "metrics"], TimeSpan.FromSeconds(10));
        return r.ExitCode == 0 ? r.Stdout + "\n" : "";
    }

    private async Task WaitForReadyAsync(string cli, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (!(await MetricsAsync(cli)).Contains($"stencil_factory_pool_ready {count}\n", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the factory daemon had no {count} clone(s) ready within 180 s; metrics:\n{await MetricsAsync(cli)}");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGTERM, as systemd stops it: the daemon discards its ready clones and removes its sockets.</summary>
    private static async Task StopAsync(ChildProcess daemon)
    {
        if (!daemon.HasExited)
            _ = Tmds.Linux.LibC.kill(daemon.Pid, Tmds.Linux.LibC.SIGTERM);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!daemon.HasExited && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await daemon.DisposeAsync();
    }
}
