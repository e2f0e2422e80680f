using System.Diagnostics;
using System.Runtime.InteropServices;
using Stencil.Bench.Shim;
using Stencil.Factory;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;
using Stencil.TestSupport;
using static Stencil.Bench.Shim.Stats;

namespace Stencil.Bench;

/// <summary>
/// The shim end to end, through a private containerd 1.6 and ctr: (1) `ctr run --rm busybox true`
/// wall time for runc and for Stencil cold boot, template clone and pool, interleaved round by round,
/// with where Stencil's time goes (from the shim's log); (2) the shim binary's `start` and `delete`;
/// (3) shim daemon RSS/PSS and whole-pod PSS (shim + QEMU) for 1 and 8 idle template pods and one
/// cold-booted pod. Medians throughout; targets are reported as PASS/FAIL but never fail the run.
/// Ignores --duration and --warmup: the work is a fixed number of runs.
/// </summary>
public sealed partial class ShimBenchmark : IBenchmark
{
    private const int Rounds = 7;
    private const int StartRuns = 10;
    private const int PoolSize = 1;
    private const int Pods = 8;
    private const double TemplateTargetSeconds = 1.5;
    private const double SpeedupTarget = 3.0;
    private const double PoolVsRuncTarget = 4.0;
    private const double TemplateVsRuncTarget = 6.0;
    private const double HandOverTargetMs = 50;
    private const double ShimRssTargetMiB = 30;
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_leftoverGrace = TimeSpan.FromSeconds(15);

    public string Name => "shim";

    public string Description => "ctr run: runc vs Stencil cold/template/pool; shim start/delete; shim and pod RSS/PSS (private containerd, real VMs)";

    public async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        // SIGTERM/SIGHUP cancel like Ctrl-C does, so the cleanup below still runs (a killed benchmark
        // would otherwise leave containerd, shims and VMs behind).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; stop.Cancel(); });
        var token = stop.Token;
        var total = Stopwatch.StartNew();

        var host = await BenchHost.ProbeAsync(token);
        output.WriteLine("shim: Stencil's containerd shim end to end (private containerd, ctr, busybox image, real VMs)");
        foreach (var line in host.Describe())
            output.WriteLine($"  {line}");
        output.WriteLine($"  caveat: {host.Cores} cores shared with whatever else runs here; timings are noisy, compare within one run");

        await using var environment = await BenchEnvironment.StartAsync(token);
        VmFactory? factory = null;
        FactoryDaemonProcess? daemon = null;
        try
        {
            var cold = environment.WriteConfig("cold", "enable_template = false");
            var template = environment.WriteConfig("template", "enable_template = true");
            var pool = environment.WriteConfig("pool", $"enable_template = true\npool_size = {PoolSize}", useFactoryDaemon: true);
            output.WriteLine($"  configuration files: {cold}, {template}, {pool} (given with ctr run --runtime-config-path)");
            output.WriteLine();

            factory = await BuildTemplateAsync(environment, template, output, token);
            var variants = new[]
            {
                new CtrVariant("runc", $"runc ({CtrVariant.RuncRuntime})", null, null),
                new CtrVariant("cold", "stencil cold boot (enable_template=false)", cold, "cold boot"),
                new CtrVariant("tpl", "stencil template clone (no factory daemon)", template, "template"),
                new CtrVariant("pool", $"stencil factory daemon's pool (pool_size={PoolSize})", pool, "pool"),
            };
            daemon = await FactoryDaemonProcess.StartAsync(pool, PoolSize, token);
            output.WriteLine($"  factory daemon: `stencil factory serve` with {pool}, pool of {PoolSize}; before each pool run the bench waits (untimed) until a clone is ready");
            await CtrRunSectionAsync(environment, variants, output, daemon, token);
            await ShimStartSectionAsync(environment, template, output, token);
            await MemorySectionAsync(environment, template, cold, output, token);
        }
        finally
        {
            if (daemon is not null)
                await daemon.DisposeAsync();
            var report = await environment.CleanUpAsync();
            if (factory is not null)
                await factory.DisposeAsync();
            output.WriteLine();
            if (report.Count == 0)
                output.WriteLine("cleanup: containerd stopped; no shim, QEMU or mount of this run was left behind");
            foreach (var line in report)
                output.WriteLine($"cleanup WARNING: {line}");
            output.WriteLine($"shim benchmark took {total.Elapsed.TotalSeconds:0} s; load average now {BenchHost.LoadAverage()}");
        }
    }

    /// <summary>Builds the template once, outside the timed runs, in this process with the template variant's configuration (the fingerprint the shims will find).</summary>
    private static async Task<VmFactory> BuildTemplateAsync(BenchEnvironment environment, string configPath, TextWriter output, CancellationToken token)
    {
        var log = new CollectingLog();
        var factory = new VmFactory(FactoryOptionsFromConfig.Create(ConfigLoader.ReadFile(configPath)), log);
        var result = await factory.EnsureTemplateAsync(rebuild: false, token);
        var du = await ChildProcess.RunAsync("du", ["-sk", environment.TemplateDir], TimeSpan.FromSeconds(30));
        var kib = long.TryParse(du.Stdout.Split('\t')[0], out var k) ? k : -1;
        output.WriteLine($"template build (once, before any timing; VmFactory.EnsureTemplateAsync): {S(result.Elapsed.TotalSeconds)} s, " +
            $"{(result.Built ? "built" : "was already there")}, {MiB(kib)} MiB on tmpfs at {environment.TemplateDir}");
        foreach (var line in log.Lines)
            output.WriteLine($"  factory {line}");
        return factory;
    }

    private static async Task CtrRunSectionAsync(BenchEnvironment environment, CtrVariant[] variants, TextWriter output, FactoryDaemonProcess daemon,
        CancellationToken token)
    {
        var samples = variants.ToDictionary(v => v, _ => new List<(string Id, double Seconds, DateTime StartedUtc)>());
        // One warm-up run of each (page cache, containerd's first runc start), not counted.
        foreach (var variant in variants)
        {
            if (variant.ExpectedOrigin == "pool")
                await daemon.WaitForReadyAsync(PoolSize, token);
            await CtrRunAsync(environment, variant, $"{variant.Key}-warm", token);
        }
        for (var round = 0; round < Rounds; round++)
        {
            // Interleaved, and the order rotated every round, so drift in the machine's load hits every variant alike.
            for (var i = 0; i < variants.Length; i++)
            {
                var variant = variants[(i + round) % variants.Length];
                var id = $"{variant.Key}-{round}";
                if (variant.ExpectedOrigin == "pool")
                    await daemon.WaitForReadyAsync(PoolSize, token);
                var (seconds, started) = await CtrRunAsync(environment, variant, id, token);
                samples[variant].Add((id, seconds, started));
            }
        }

        var leftovers = await environment.WaitForNoProcessesAsync(s_leftoverGrace);
        var log = environment.ContainerdLog();
        var timelines = variants.Where(v => v.IsStencil).ToDictionary(v => v,
            v => samples[v].Select(s => (s.Seconds, s.StartedUtc, Timeline: ShimLogTimeline.Parse(log, s.Id))).ToList());
        var medians = variants.ToDictionary(v => v, v => Median(samples[v].Select(s => s.Seconds)));
        var runc = medians[variants[0]];
        var coldMedian = medians[variants[1]];

        output.WriteLine();
        output.WriteLine($"1. `ctr run --rm busybox true` wall time: {Rounds} runs of each, interleaved (order rotated every round), after one warm-up run of each");
        output.WriteLine($"   {"variant",-42} {"median",7} {"min",6} {"max",6} {"vs runc",8} {"cold/this",9}  VM origin in the shim's log");
        foreach (var variant in variants)
        {
            var values = samples[variant].Select(s => s.Seconds).ToList();
            var origins = variant.IsStencil
                ? string.Join(", ", timelines[variant].GroupBy(t => t.Timeline.Origin ?? "none logged").Select(g => $"{g.Key} {g.Count()}/{values.Count}"))
                : "-";
            if (variant.ExpectedOrigin == "pool" && timelines[variant].All(t => t.Timeline.Origin != "pool"))
            {
                output.WriteLine($"   {variant.Label,-42} n/a: no run was served from the factory daemon's pool ({origins}): see the shims' \"cloning the template here\" lines");
                output.WriteLine($"   {"",-42}      Measured anyway: median {S(medians[variant])} s, " +
                    $"min {S(values.Min())}, max {S(values.Max())}, {X(medians[variant] / runc)} runc, {X(coldMedian / medians[variant])} faster than cold");
                continue;
            }
            output.WriteLine($"   {variant.Label,-42} {S(medians[variant]),6}s {S(values.Min()),6} {S(values.Max()),6} {X(medians[variant] / runc),8} {X(coldMedian / medians[variant]),9}  {origins}");
        }
        var tplMedian = medians[variants[2]];
        var poolMedian = medians[variants[3]];
        output.WriteLine($"   target: `ctr run` through the factory daemon's pool <= {PoolVsRuncTarget:0}x runc: {X(poolMedian / runc)} {Verdict(poolMedian / runc <= PoolVsRuncTarget)}");
        output.WriteLine($"   target: template clone without the daemon <= {TemplateVsRuncTarget:0}x runc: {X(tplMedian / runc)} {Verdict(tplMedian / runc <= TemplateVsRuncTarget)}");
        var handOvers = HandOverMilliseconds(log);
        if (handOvers.Count > 0)
        {
            output.WriteLine($"   pool hand-over in the shim (request to the daemon -> clone attached, resumed, RNG reseeded, clock set), {handOvers.Count} runs: " +
                $"median {Median(handOvers):F1} ms, min {handOvers.Min():F1}, max {handOvers.Max():F1}; target <= {HandOverTargetMs:0} ms {Verdict(Median(handOvers) <= HandOverTargetMs)}");
        }
        output.WriteLine($"   target: template clone median <= {TemplateTargetSeconds:0.0} s: {S(tplMedian)} s {Verdict(tplMedian <= TemplateTargetSeconds)}");
        output.WriteLine($"   target: template clone >= {SpeedupTarget:0}x faster than cold boot: {X(coldMedian / tplMedian)} {Verdict(coldMedian / tplMedian >= SpeedupTarget)}");
        foreach (var variant in variants.Where(v => v.IsStencil && v.ExpectedOrigin != "pool"))
        {
            var wrong = timelines[variant].Count(t => t.Timeline.Origin != variant.ExpectedOrigin);
            if (wrong > 0)
                output.WriteLine($"   WARNING: {wrong} of {Rounds} {variant.Key} runs did not get a '{variant.ExpectedOrigin}' VM (see the origin column)");
        }
        if (leftovers.Count > 0)
            output.WriteLine($"   WARNING: {s_leftoverGrace.TotalSeconds:0} s after the last `ctr run --rm`, {leftovers.Count} shim/QEMU processes of this run are still alive (pids {string.Join(' ', leftovers.Select(p => p.Pid))})");

        output.WriteLine();
        output.WriteLine("   where a Stencil run's time goes: medians in s, between ctr's start/exit and the shim's log lines (containerd's log)");
        var stencil = variants.Where(v => v.IsStencil).ToArray();
        output.WriteLine($"   {"step",-58}" + string.Concat(stencil.Select(v => $"{v.Key,9}")));
        var steps = new (string Name, Func<(double Seconds, DateTime StartedUtc, ShimLogTimeline Timeline), double?> Of)[]
        {
            ("ctr start -> shim daemon serving (containerd, shim start)", r => Between(r.StartedUtc, r.Timeline.Serving)),
            ("daemon serving -> VM ready (Create arrives, VM starts)", r => Between(r.Timeline.Serving, r.Timeline.VmReady)),
            ("  of which the VM start as the factory timed it", r => r.Timeline.FactoryMs / 1000),
            ("VM ready -> container created in the guest", r => Between(r.Timeline.VmReady, r.Timeline.Created)),
            ("created -> exited (Start, `true` runs, exit reported)", r => Between(r.Timeline.Created, r.Timeline.Exited)),
            ("exited -> VM stopped (ctr's Delete, VM teardown)", r => Between(r.Timeline.Exited, r.Timeline.VmStopped)),
            ("VM stopped -> ctr exited (Shutdown, shim delete)", r => Between(r.Timeline.VmStopped, r.StartedUtc.AddSeconds(r.Seconds))),
            ("total (ctr wall time)", r => r.Seconds),
            ("  of which ctr start -> container exited (start latency)", r => Between(r.StartedUtc, r.Timeline.Exited)),
        };
        foreach (var (name, of) in steps)
        {
            output.WriteLine($"   {name,-58}" + string.Concat(stencil.Select(v =>
            {
                var values = timelines[v].Select(of).OfType<double>().ToList();
                return $"{(values.Count == 0 ? "-" : S(Median(values))),9}";
            })));
        }
    }

    /// <summary>The shims' "took clone ... from the factory daemon: hand-over N ms" lines.</summary>
    private static List<double> HandOverMilliseconds(IReadOnlyList<string> log) =>
        [.. log.Select(l => HandOverRegex().Match(l)).Where(m => m.Success)
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [System.Text.RegularExpressions.GeneratedRegex(@"from the factory daemon: hand-over (\d+(?:\.\d+)?) ms")]
    private static partial System.Text.RegularExpressions.Regex HandOverRegex();

    private static double? Between(DateTime? from, DateTime? to) => from is { } f && to is { } t ? (t - f).TotalSeconds : null;

    private static async Task<(double Seconds, DateTime StartedUtc)> CtrRunAsync(BenchEnvironment environment, CtrVariant variant, string id, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        var (result, elapsed, started) = await environment.TimeCtrAsync(["run", "--rm", .. variant.RunArguments, BenchEnvironment.Image, id, "true"]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ctr run {id} ({variant.Label}) exited {result.ExitCode}: {result.Stderr}\ncontainerd log (end):\n" +
                string.Join('\n', environment.ContainerdLog().TakeLast(30)));
        return (elapsed.TotalSeconds, started);
    }

    private static async Task ShimStartSectionAsync(BenchEnvironment environment, string configPath, TextWriter output, CancellationToken token)
    {
        var (starts, deletes) = await ShimStartProbe.MeasureAsync(environment, configPath, StartRuns, token);
        output.WriteLine();
        output.WriteLine($"2. the shim binary run directly as containerd runs it ({StartRuns} runs each; start = spawn the pod's daemon and wait until it listens, no VM yet)");
        output.WriteLine($"   {"command",-42} {"median",7} {"min",6} {"max",6}");
        output.WriteLine($"   {"containerd-shim-stencil-v2 start",-42} {Ms(Median(starts)),5}ms {Ms(starts.Min()),6} {Ms(starts.Max()),6}");
        output.WriteLine($"   {"containerd-shim-stencil-v2 delete",-42} {Ms(Median(deletes)),5}ms {Ms(deletes.Min()),6} {Ms(deletes.Max()),6}");
    }

    private static async Task MemorySectionAsync(BenchEnvironment environment, string template, string cold, TextWriter output, CancellationToken token)
    {
        var tplVariant = new CtrVariant("mem", "template", template, "template");
        var running = new List<string>();
        var startTimes = new List<double>();
        PodMemory? one = null;
        List<PodMemory> eight;
        try
        {
            for (var i = 1; i <= Pods; i++)
            {
                startTimes.Add(await environment.StartIdlePodAsync(tplVariant, $"mem-{i}", running, token));
                if (i == 1)
                {
                    await Task.Delay(s_settle, token);
                    one = PodMemory.Read("mem-1", environment.SocketDir);
                }
            }
            await Task.Delay(s_settle, token);
            eight = running.Select(id => PodMemory.Read(id, environment.SocketDir)).ToList();
        }
        finally
        {
            await environment.RemoveContainersAsync(running);
        }
        var first = one ?? throw new InvalidOperationException("the first pod was never sampled");

        var coldVariant = new CtrVariant("memcold", "cold", cold, "cold boot");
        var coldRunning = new List<string>();
        PodMemory coldPod;
        double coldStart;
        try
        {
            coldStart = await environment.StartIdlePodAsync(coldVariant, "memcold-1", coldRunning, token);
            await Task.Delay(s_settle, token);
            coldPod = PodMemory.Read("memcold-1", environment.SocketDir);
        }
        finally
        {
            await environment.RemoveContainersAsync(coldRunning);
        }
        var afterRemoval = await environment.WaitForNoProcessesAsync(s_leftoverGrace);
        var log = environment.ContainerdLog();
        var origins = string.Join(", ", running.Append("memcold-1").Select(id => ShimLogTimeline.Parse(log, id).Origin ?? "none logged")
            .GroupBy(o => o).Select(g => $"{g.Key} {g.Count()}"));

        output.WriteLine();
        output.WriteLine($"3. memory of idle pods (`ctr run -d busybox sleep 100000`, started one after another, sampled {s_settle.TotalSeconds:0} s after the last start);");
        output.WriteLine("   RSS = VmRSS (/proc/PID/status), PSS = Pss (/proc/PID/smaps_rollup), MiB; pod = shim daemon + its QEMU; 8-pod rows are medians over the pods");
        output.WriteLine($"   {"pods",-34} {"shim RSS",9} {"shim PSS",9} {"QEMU RSS",9} {"QEMU PSS",9} {"pod PSS",9} {"total PSS",10}");
        Row("template clone, 1 pod", [first]);
        Row($"template clone, {Pods} pods", eight);
        Row("cold boot, 1 pod", [coldPod]);
        output.WriteLine($"   pod PSS of each of the {Pods} template pods: {string.Join(' ', eight.Select(p => MiB(p.PodPssKiB)))}");
        output.WriteLine($"   ctr run -d wall time of template pods 1..{Pods} (k-1 idle pods running): {string.Join(' ', startTimes.Select(S))} s; cold pod: {S(coldStart)} s");
        output.WriteLine($"   VM origins in the shim's log ({Pods} template pods + 1 cold): {origins}");
        var perPodOne = first.PodPssKiB;
        var perPodEight = Median(eight.Select(p => (double)p.PodPssKiB));
        output.WriteLine($"   pod PSS: 1 template pod {MiB(perPodOne)} MiB, median of {Pods} {MiB(perPodEight)} MiB (clones share the template's pages), cold pod {MiB(coldPod.PodPssKiB)} MiB");
        var shimRss = Median(eight.Append(first).Select(p => (double)p.Shim.RssKiB));
        output.WriteLine($"   target: shim daemon RSS <= {ShimRssTargetMiB:0} MiB (median over the {Pods + 1} template pods' daemons): {MiB(shimRss)} MiB {Verdict(shimRss / 1024 <= ShimRssTargetMiB)}");
        if (afterRemoval.Count > 0)
            output.WriteLine($"   WARNING: {s_leftoverGrace.TotalSeconds:0} s after removing the pods, {afterRemoval.Count} shim/QEMU processes of this run are still alive (pids {string.Join(' ', afterRemoval.Select(p => p.Pid))})");

        void Row(string name, IReadOnlyList<PodMemory> pods)
        {
            double M(Func<PodMemory, long> f) => Median(pods.Select(p => (double)f(p)));
            output.WriteLine($"   {name,-34} {MiB(M(p => p.Shim.RssKiB)),9} {MiB(M(p => p.Shim.PssKiB)),9} {MiB(M(p => p.ChildrenRssKiB)),9} " +
                $"{MiB(M(p => p.ChildrenPssKiB)),9} {MiB(M(p => p.PodPssKiB)),9} {MiB(pods.Sum(p => (double)p.PodPssKiB)),10}");
        }
    }
}
