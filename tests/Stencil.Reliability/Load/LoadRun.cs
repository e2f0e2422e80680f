using System.Diagnostics;
using System.Globalization;
using Stencil.TestSupport;

namespace Stencil.Reliability.Load;

/// <summary>
/// The load scenarios, one code path for `make reliability` and the end-to-end test: sequential
/// create/delete cycles, then concurrent pods. Each is bracketed by a <see cref="HostCensus"/> (after
/// waiting for deleted pods' shims and QEMUs to go) and sampled by a <see cref="ShimSampler"/>.
/// </summary>
public static class LoadRun
{
    /// <summary>At most this many failure messages are kept per scenario (the count goes on).</summary>
    private const int MaxMessages = 5;

    public static async Task<IReadOnlyList<LoadResult>> RunAsync(LoadHost host, LoadPlan plan, TextWriter progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(progress);
        // One pod first, outside the figures: it builds the template (on first need), which a cycle
        // should not be charged for, and it proves the set-up before 200 cycles depend on it.
        var warmup = await host.Ctr(["run", "--rm", "--runtime", host.Runtime, host.Image, $"{plan.IdPrefix}-warmup", "true"]).ConfigureAwait(false);
        if (warmup.ExitCode != 0)
            throw new InvalidOperationException($"the warm-up pod failed (exit {warmup.ExitCode}): {warmup.Stderr}");
        await SettleAsync(host, await HostCensus.TakeAsync(host).ConfigureAwait(false), plan, cancellationToken).ConfigureAwait(false);

        return
        [
            await MeasureAsync(host, plan, $"{plan.Cycles} x create/delete", plan.Cycles, progress,
                () => SequentialAsync(host, plan, progress, cancellationToken), cancellationToken).ConfigureAwait(false),
            await MeasureAsync(host, plan, $"{plan.ConcurrentPods} pods at once", plan.ConcurrentPods, progress,
                () => ConcurrentAsync(host, plan, progress, cancellationToken), cancellationToken).ConfigureAwait(false),
        ];
    }

    private static async Task<LoadResult> MeasureAsync(LoadHost host, LoadPlan plan, string scenario, int pods, TextWriter progress,
        Func<Task<(List<double> Seconds, List<string> Failures)>> run, CancellationToken cancellationToken)
    {
        var before = await HostCensus.TakeAsync(host).ConfigureAwait(false);
        progress.WriteLine($"{scenario}: before: {before}");
        var wall = Stopwatch.StartNew();
        List<double> seconds;
        List<string> failures;
        var sampler = ShimSampler.Start(host);
        try
        {
            (seconds, failures) = await run().ConfigureAwait(false);
        }
        finally
        {
            await sampler.DisposeAsync().ConfigureAwait(false);
        }
        var after = await SettleAsync(host, before, plan, cancellationToken).ConfigureAwait(false);
        wall.Stop();
        var leaked = after.Minus(before);
        progress.WriteLine($"{scenario}: after: {after}; leaked: {leaked}");
        foreach (var growth in after.TmpfsGrowth(before))
            progress.WriteLine($"  tmpfs: {growth}");
        return new LoadResult(scenario, pods, failures.Count, leaked, sampler.MaxHwmKiB, sampler.MaxFds, sampler.ShimsSeen,
            Median(seconds), wall.Elapsed.TotalSeconds, [.. failures.Take(MaxMessages)], leaked.IsCleanAfter(pods));
    }

    /// <summary>`ctr run --rm` one pod after the other; each must print what its container echoed.</summary>
    private static async Task<(List<double>, List<string>)> SequentialAsync(LoadHost host, LoadPlan plan, TextWriter progress, CancellationToken cancellationToken)
    {
        var seconds = new List<double>();
        var failures = new List<string>();
        for (var i = 0; i < plan.Cycles; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = $"{plan.IdPrefix}-seq-{i}";
            var clock = Stopwatch.StartNew();
            var run = await host.Ctr(["run", "--rm", "--runtime", host.Runtime, host.Image, id, "echo", id]).ConfigureAwait(false);
            seconds.Add(clock.Elapsed.TotalSeconds);
            if (run.ExitCode != 0 || run.Stdout.Trim() != id)
            {
                failures.Add($"{id}: ctr run exited {run.ExitCode}, stdout \"{run.Stdout.Trim()}\", stderr: {run.Stderr.Trim()}");
                await host.Ctr(["task", "rm", "-f", id]).ConfigureAwait(false);
                await host.Ctr(["containers", "rm", id]).ConfigureAwait(false);
            }
            if ((i + 1) % 20 == 0)
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1}/{plan.Cycles} cycles, {failures.Count} failed, last {seconds[^1]:0.00} s"));
        }
        return (seconds, failures);
    }

    /// <summary>
    /// Starts every pod at once (`ctr run -d ... sleep`), checks that each runs a command (`ctr task
    /// exec`), then removes them all at once (`ctr task rm -f`, `ctr containers rm`). The seconds are
    /// each pod's start.
    /// </summary>
    private static async Task<(List<double>, List<string>)> ConcurrentAsync(LoadHost host, LoadPlan plan, TextWriter progress, CancellationToken cancellationToken)
    {
        var ids = Enumerable.Range(0, plan.ConcurrentPods).Select(i => $"{plan.IdPrefix}-par-{i}").ToList();
        var failures = new List<string>();
        var starts = await Task.WhenAll(ids.Select(async id =>
        {
            var clock = Stopwatch.StartNew();
            var run = await host.Ctr(["run", "-d", "--runtime", host.Runtime, host.Image, id, "sleep", "3600"]).ConfigureAwait(false);
            return (Id: id, Result: run, Seconds: clock.Elapsed.TotalSeconds);
        })).ConfigureAwait(false);
        foreach (var (id, result, _) in starts.Where(s => s.Result.ExitCode != 0))
            failures.Add($"{id}: ctr run -d exited {result.ExitCode}: {result.Stderr.Trim()}");
        progress.WriteLine($"  {starts.Length - failures.Count}/{starts.Length} pods started");
        cancellationToken.ThrowIfCancellationRequested();

        var execs = await Task.WhenAll(starts.Where(s => s.Result.ExitCode == 0).Select(async s =>
            (s.Id, Result: await host.Ctr(["task", "exec", "--exec-id", "probe", s.Id, "echo", s.Id]).ConfigureAwait(false)))).ConfigureAwait(false);
        foreach (var (id, result) in execs.Where(e => e.Result.ExitCode != 0 || e.Result.Stdout.Trim() != e.Id))
            failures.Add($"{id}: ctr task exec exited {result.ExitCode}, stdout \"{result.Stdout.Trim()}\", stderr: {result.Stderr.Trim()}");

        var removals = await Task.WhenAll(ids.Select(async id =>
        {
            var task = await host.Ctr(["task", "rm", "-f", id]).ConfigureAwait(false);
            var container = await host.Ctr(["containers", "rm", id]).ConfigureAwait(false);
            return (Id: id, Task: task, Container: container);
        })).ConfigureAwait(false);
        // A pod that failed to start has no task to remove; its container removal must still work.
        foreach (var (id, task, container) in removals)
        {
            var started = starts.Single(s => s.Id == id).Result.ExitCode == 0;
            if ((started && task.ExitCode != 0) || container.ExitCode != 0)
                failures.Add($"{id}: removal: ctr task rm -f exited {task.ExitCode} ({task.Stderr.Trim()}), ctr containers rm exited {container.ExitCode} ({container.Stderr.Trim()})");
        }
        return ([.. starts.Select(s => s.Seconds)], failures);
    }

    /// <summary>Waits until no more shims or QEMUs run than in <paramref name="baseline"/> (or the timeout), then takes the census.</summary>
    private static async Task<HostCensus> SettleAsync(LoadHost host, HostCensus baseline, LoadPlan plan, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + plan.SettleTimeout;
        while (true)
        {
            var now = await HostCensus.TakeAsync(host).ConfigureAwait(false);
            if ((now.Qemu <= baseline.Qemu && now.Shims <= baseline.Shims && now.PodState <= baseline.PodState) || DateTime.UtcNow > deadline)
                return now;
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    private static double Median(List<double> samples)
    {
        if (samples.Count == 0)
            return double.NaN;
        var sorted = samples.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
