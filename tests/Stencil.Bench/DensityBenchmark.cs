using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Stencil.Bench.Shim;
using Stencil.Factory;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;
using Stencil.TestSupport;
using static Stencil.Bench.Shim.Stats;

namespace Stencil.Bench;

/// <summary>
/// Idle pods per node (issue 14), through a private containerd and `ctr run -d busybox sleep`, template
/// clones: (1) where an idle pod's memory goes, per component (<see cref="PodBreakdown"/>), at 10 pods, with
/// one memory lever changed per row (TCG's code buffer size; KSM); the guest's own view from /proc/meminfo;
/// (2) what the code buffer's size costs in speed, interleaved round by round: `ctr run --rm true` and a busy
/// exec; (3) 50 idle pods with the product's defaults: PSS per pod at 10 and 50 pods, exec latency at 1 and at
/// 50 pods, every pod answering an exec. Medians; targets printed PASS/FAIL, never failing the run.
/// Ignores --duration and --warmup.
/// </summary>
public sealed class DensityBenchmark : IBenchmark
{
    private const int LeverPods = 10;
    private const int ScalePods = 50;
    private const int SpeedRounds = 5;
    private const int ExecSamples = 7;
    private const double PodTargetMiB = 60;
    private const double ExecRatioTarget = 1.5;
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_ksmWait = TimeSpan.FromSeconds(120);
    private const string BusyWork = "find / -xdev > /dev/null 2>&1; ls -lR /bin /etc > /dev/null 2>&1; true";

    public string Name => "density";

    public string Description => "idle pods: memory per component at 10 pods with each lever alone; TCG buffer speed cost; 50 pods PSS and exec latency";

    public async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var token = stop.Token;
        var total = Stopwatch.StartNew();

        var host = await BenchHost.ProbeAsync(token);
        output.WriteLine("density: idle pods on one node (private containerd, ctr, busybox image, template clones, real VMs)");
        foreach (var line in host.Describe())
            output.WriteLine($"  {line}");
        output.WriteLine("  PSS = Pss of /proc/PID/smaps (shared pages divided among the processes mapping them); pod = shim daemon + QEMU + the namespace holder");

        await using var environment = await BenchEnvironment.StartAsync(token);
        VmFactory? factory = null;
        try
        {
            var defaults = environment.WriteConfig("defaults", "enable_template = true");
            factory = new VmFactory(FactoryOptionsFromConfig.Create(ConfigLoader.ReadFile(defaults)), new CollectingLog());
            var built = await factory.EnsureTemplateAsync(rebuild: false, token);
            var defaultConfig = ConfigLoader.ReadFile(defaults);
            output.WriteLine($"  template built once in {S(built.Elapsed.TotalSeconds)} s; product defaults: tcg_translation_cache_mib = {defaultConfig.Hypervisor.TcgTranslationCacheMiB}, enable_mem_merge = {defaultConfig.Hypervisor.EnableMemMerge.ToString().ToLowerInvariant()}");

            var buffers = new[] { 0, 24, 16, 8 };
            var levers = buffers.Select(mib => new Lever(
                    mib == 0 ? "TCG code buffer: QEMU's default (up to 1 GiB)" : $"TCG code buffer {mib} MiB",
                    environment.WriteConfig($"tb{mib}", "enable_template = true", hypervisorKeys: $"tcg_translation_cache_mib = {mib}"),
                    Ksm: false))
                .Append(new Lever("KSM: enable_mem_merge = true, ksmd running (product default buffer)",
                    environment.WriteConfig("ksm", "enable_template = true", hypervisorKeys: "enable_mem_merge = true"), Ksm: true))
                .ToList();
            await LeverSectionAsync(environment, levers, output, token);
            await SpeedSectionAsync(environment, levers.Where(l => !l.Ksm).ToList(), output, token);
            await ScaleSectionAsync(environment, "3", "the product's defaults", defaults, output, token);
            // The dense preset (config/configuration-dense.toml over the same defaults): the 16 MiB row of section 1, at its speed cost (section 2).
            var dense = StencilConfigFile.WriteDensePreset(defaults, Path.Combine(environment.Dir, "dense.toml"));
            await ScaleSectionAsync(environment, "3b", "the dense preset (config/configuration-dense.toml: tcg_translation_cache_mib = 16)", dense, output, token);
        }
        finally
        {
            var report = await environment.CleanUpAsync();
            if (factory is not null)
                await factory.DisposeAsync();
            output.WriteLine();
            output.WriteLine(report.Count == 0 ? "cleanup: containerd stopped; no shim, QEMU or mount of this run was left behind" : "cleanup:");
            foreach (var line in report)
                output.WriteLine($"cleanup WARNING: {line}");
            output.WriteLine($"density: {total.Elapsed.TotalSeconds:0} s in all");
        }
    }

    private sealed record Lever(string Label, string Config, bool Ksm);

    private static async Task LeverSectionAsync(BenchEnvironment environment, IReadOnlyList<Lever> levers, TextWriter output, CancellationToken token)
    {
        output.WriteLine();
        output.WriteLine($"1. memory of {LeverPods} idle pods per row (`ctr run -d busybox sleep`, one after another, sampled {s_settle.TotalSeconds:0} s after the last), one lever changed per row; medians per pod, MiB PSS");
        output.WriteLine($"   {"lever",-70} {"pod",6} | {"shim",5} {"(priv",6} {"code)",6} | {"TCG",5} {"heap",5} {"libs",5} {"tplSh",6} {"wrote",6} | {"other",5} | guest used");
        foreach (var lever in levers)
        {
            var running = new List<string>();
            var ksm = lever.Ksm ? Ksm.TryStart() : null;
            if (lever.Ksm && ksm is null)
            {
                output.WriteLine($"   {lever.Label,-70} skipped: no /sys/kernel/mm/ksm on this host (kernel without CONFIG_KSM) or not writable");
                continue;
            }
            try
            {
                var key = lever.Ksm ? "ksm" : Path.GetFileNameWithoutExtension(lever.Config);
                for (var i = 1; i <= LeverPods; i++)
                    await StartIdlePodAsync(environment, lever.Config, $"{key}-{i}", running, token);
                await Task.Delay(s_settle, token);
                var ksmNote = "";
                if (ksm is not null)
                    ksmNote = await ksm.WaitForFullScansAsync(2, s_ksmWait, token);
                var pods = running.Select(id => PodBreakdown.Read(id, environment.SocketDir, environment.TemplateDir)).ToList();
                var m = PodBreakdown.Median(pods);
                var podMedian = Median(pods.Select(p => (double)p.Pod));
                var guest = await GuestUsedAsync(environment, running[0]);
                output.WriteLine($"   {lever.Label,-70} {MiB(podMedian),6} | {MiB(m.Shim),5} {MiB(m.ShimPrivate),6} {MiB(m.ShimShared),6} | {MiB(m.TcgCode),5} {MiB(m.QemuHeap),5} " +
                    $"{MiB(m.QemuFiles),5} {MiB(m.TemplateShared),6} {MiB(m.GuestWritten),6} | {MiB(m.Other),5} | {guest}{ksmNote}");
            }
            finally
            {
                await environment.RemoveContainersAsync(running);
                ksm?.Restore();
            }
        }
        output.WriteLine("   shim = the pod's shim daemon: priv = its own pages (GC heap, stacks, NativeAOT's rehydrated data), code = its share of the binary;");
        output.WriteLine("   TCG = QEMU's buffer of translated guest code; heap = QEMU's other anonymous memory; libs = its share of its binary and libraries;");
        output.WriteLine("   tplSh = its share of guest RAM pages shared with the template's memory file (and, with KSM, merged with other clones); wrote = guest pages this clone wrote and holds alone;");
        output.WriteLine("   other = the namespace holder; guest used = MemTotal - MemAvailable of the guest's /proc/meminfo (kernel, agent, container: the guest's view)");
        output.WriteLine("   not a lever here: free page reporting (virtio-balloon) — QEMU 7.2 discards a reported page of a file-backed RAM block with fallocate(PUNCH_HOLE)");
        output.WriteLine("   on the file, which for a clone is the template's memory file every clone maps (QEMU 8.2 only drops the clone's private copy)");
    }

    private static async Task SpeedSectionAsync(BenchEnvironment environment, IReadOnlyList<Lever> levers, TextWriter output, CancellationToken token)
    {
        var runs = levers.ToDictionary(l => l, _ => new List<double>());
        var execs = levers.ToDictionary(l => l, _ => new List<double>());
        var running = new List<string>();
        try
        {
            var busy = new Dictionary<Lever, string>();
            foreach (var lever in levers)
            {
                var id = "busy-" + Path.GetFileNameWithoutExtension(lever.Config);
                await StartIdlePodAsync(environment, lever.Config, id, running, token);
                busy[lever] = id;
            }
            for (var round = 1; round <= SpeedRounds; round++)
            {
                foreach (var lever in levers)
                {
                    var id = $"run-{Path.GetFileNameWithoutExtension(lever.Config)}-{round}";
                    var (result, elapsed, _) = await environment.TimeCtrAsync(["run", "--rm", "--runtime", CtrVariant.StencilRuntime, "--runtime-config-path", lever.Config, BenchEnvironment.Image, id, "true"]);
                    if (result.ExitCode != 0)
                        throw new InvalidOperationException($"ctr run --rm {id} exited {result.ExitCode}: {result.Stderr}");
                    runs[lever].Add(elapsed.TotalSeconds);
                    execs[lever].Add(await TimeExecAsync(environment, busy[lever], $"w{round}", "sh", "-c", BusyWork));
                }
            }
        }
        finally
        {
            await environment.RemoveContainersAsync(running);
        }
        output.WriteLine();
        output.WriteLine($"2. what the TCG code buffer's size costs ({SpeedRounds} rounds, variants interleaved in each; medians, s; ratio to QEMU's default buffer)");
        output.WriteLine($"   {"variant",-48} {"ctr run --rm true",18} {"ratio",6} {"busy exec",10} {"ratio",6}");
        var baseRun = Median(runs[levers[0]]);
        var baseExec = Median(execs[levers[0]]);
        foreach (var lever in levers)
        {
            var run = Median(runs[lever]);
            var exec = Median(execs[lever]);
            output.WriteLine($"   {lever.Label,-48} {S(run),18} {X(run / baseRun),6} {S(exec),10} {X(exec / baseExec),6}");
        }
        output.WriteLine($"   busy exec = `ctr task exec` of `{BusyWork}` in an idle pod of that variant");
    }

    private static async Task ScaleSectionAsync(BenchEnvironment environment, string section, string label, string config, TextWriter output, CancellationToken token)
    {
        var running = new List<string>();
        List<double> execOne = [], execMany = [], firstMany = [];
        double firstOne;
        List<PodBreakdown> atTen, atFifty;
        var startTimes = new List<double>();
        var answered = 0;
        try
        {
            startTimes.Add(await StartIdlePodAsync(environment, config, $"s{section}-1", running, token));
            await Task.Delay(s_settle, token);
            // A pod's first exec translates the exec path afresh (TCG); the samples after it are of a warmed pod.
            firstOne = await TimeExecAsync(environment, $"s{section}-1", "first", "true");
            for (var i = 0; i < ExecSamples; i++)
                execOne.Add(await TimeExecAsync(environment, $"s{section}-1", $"one{i}", "true"));
            for (var i = 2; i <= LeverPods; i++)
                startTimes.Add(await StartIdlePodAsync(environment, config, $"s{section}-{i}", running, token));
            await Task.Delay(s_settle, token);
            atTen = running.Select(id => PodBreakdown.Read(id, environment.SocketDir, environment.TemplateDir)).ToList();
            for (var i = LeverPods + 1; i <= ScalePods; i++)
                startTimes.Add(await StartIdlePodAsync(environment, config, $"s{section}-{i}", running, token));
            await Task.Delay(s_settle, token);
            atFifty = running.Select(id => PodBreakdown.Read(id, environment.SocketDir, environment.TemplateDir)).ToList();
            // Every pod answers an exec: the first into each of pods 2-50 (timed: a first exec at 50 pods).
            foreach (var id in running)
            {
                var (result, elapsed, _) = await environment.TimeCtrAsync(["task", "exec", "--exec-id", "alive", id, "true"]);
                if (result.ExitCode == 0)
                    answered++;
                if (id != running[0])
                    firstMany.Add(elapsed.TotalSeconds);
            }
            // Then warmed pods, as at 1 pod: the same pod as at 1 pod first, then pods across the range.
            for (var i = 0; i < ExecSamples; i++)
                execMany.Add(await TimeExecAsync(environment, i == 0 ? $"s{section}-1" : $"s{section}-{1 + i * (ScalePods - 1) / (ExecSamples - 1)}", $"many{i}", "true"));
        }
        finally
        {
            await environment.RemoveContainersAsync(running);
        }
        var ten = Median(atTen.Select(p => (double)p.Pod));
        var fifty = Median(atFifty.Select(p => (double)p.Pod));
        var m = PodBreakdown.Median(atFifty);
        var one = Median(execOne);
        var many = Median(execMany);
        var hostUsed = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        output.WriteLine();
        output.WriteLine($"{section}. {ScalePods} idle pods with {label} (`ctr run -d`, one after another)");
        output.WriteLine($"   PSS per pod (median): {MiB(ten)} MiB at {LeverPods} pods, {MiB(fifty)} MiB at {ScalePods} pods " +
            $"(at {ScalePods}: shim {MiB(m.Shim)}, TCG {MiB(m.TcgCode)}, QEMU heap {MiB(m.QemuHeap)}, libs {MiB(m.QemuFiles)}, template shared {MiB(m.TemplateShared)}, wrote {MiB(m.GuestWritten)}, other {MiB(m.Other)})");
        output.WriteLine($"   sum of the {ScalePods} pods' PSS: {MiB(atFifty.Sum(p => (double)p.Pod))} MiB (plus the template's memory file on tmpfs, once per node)");
        output.WriteLine($"   ctr run -d wall time: pod 1 {S(startTimes[0])} s, pods 2-{LeverPods} median {S(Median(startTimes.Skip(1).Take(LeverPods - 1)))} s, pods {LeverPods + 1}-{ScalePods} median {S(Median(startTimes.Skip(LeverPods)))} s (last {S(startTimes[^1])} s)");
        output.WriteLine($"   `ctr task exec ... true` into a pod that ran one before: {S(one)} s at 1 pod, {S(many)} s at {ScalePods} pods (medians of {ExecSamples}) = {X(many / one)}; " +
            $"{answered} of {ScalePods} pods answered an exec at {ScalePods} pods");
        output.WriteLine($"   a pod's first exec (TCG translates the exec path afresh): {S(firstOne)} s at 1 pod, {S(Median(firstMany))} s at {ScalePods} pods (median of {firstMany.Count}) = {X(Median(firstMany) / firstOne)}");
        output.WriteLine($"   target: PSS per idle pod <= {PodTargetMiB:0} MiB at {LeverPods} pods: {MiB(ten)} MiB {Verdict(ten / 1024 <= PodTargetMiB)}; at {ScalePods} pods: {MiB(fifty)} MiB {Verdict(fifty / 1024 <= PodTargetMiB)}");
        output.WriteLine($"   target: exec latency at {ScalePods} pods <= {ExecRatioTarget}x at 1 pod: {X(many / one)} {Verdict(many / one <= ExecRatioTarget && answered == ScalePods)}");
        output.WriteLine($"   host {hostUsed?.Replace("  ", " ", StringComparison.Ordinal)} with {ScalePods} pods running; load average {BenchHost.LoadAverage()}");
    }

    /// <summary>`ctr run -d` of an idle busybox with the Stencil configuration <paramref name="config"/>.</summary>
    private static Task<double> StartIdlePodAsync(BenchEnvironment environment, string config, string id, List<string> running, CancellationToken token) =>
        environment.StartIdlePodAsync(new CtrVariant(id, Path.GetFileNameWithoutExtension(config), config, "template"), id, running, token);

    private static async Task<double> TimeExecAsync(BenchEnvironment environment, string id, string execId, params string[] command)
    {
        var (result, elapsed, _) = await environment.TimeCtrAsync(["task", "exec", "--exec-id", execId, id, .. command]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ctr task exec {id} {string.Join(' ', command)} exited {result.ExitCode}: {result.Stderr}");
        return elapsed.TotalSeconds;
    }

    /// <summary>The guest's MemTotal - MemAvailable, from /proc/meminfo read in the container (meminfo is not namespaced: it is the VM's).</summary>
    private static async Task<string> GuestUsedAsync(BenchEnvironment environment, string id)
    {
        var result = await environment.CtrAsync("task", "exec", "--exec-id", "meminfo", id, "cat", "/proc/meminfo");
        long Field(string key) => result.Stdout.Split('\n').Where(l => l.StartsWith(key + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault(-1);
        var totalKib = Field("MemTotal");
        var available = Field("MemAvailable");
        return result.ExitCode != 0 || totalKib < 0 || available < 0
            ? "unknown"
            : $"{MiB(totalKib - available)} of {MiB(totalKib)}";
    }

    /// <summary>The host's KSM (/sys/kernel/mm/ksm) switched on and fast for one row, then put back as it was.</summary>
    private sealed class Ksm
    {
        private const string Dir = "/sys/kernel/mm/ksm";
        private readonly Dictionary<string, string> _saved = [];

        public static Ksm? TryStart()
        {
            if (!File.Exists(Path.Combine(Dir, "run")))
                return null;
            var ksm = new Ksm();
            try
            {
                foreach (var name in new[] { "run", "pages_to_scan", "sleep_millisecs" })
                    ksm._saved[name] = File.ReadAllText(Path.Combine(Dir, name)).Trim();
                File.WriteAllText(Path.Combine(Dir, "pages_to_scan"), "4000");
                File.WriteAllText(Path.Combine(Dir, "sleep_millisecs"), "20");
                File.WriteAllText(Path.Combine(Dir, "run"), "1");
                return ksm;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ksm.Restore();
                return null;
            }
        }

        /// <summary>Waits until ksmd has scanned all mergeable memory <paramref name="scans"/> more times; returns a note with its figures.</summary>
        public async Task<string> WaitForFullScansAsync(int scans, TimeSpan timeout, CancellationToken token)
        {
            var start = Read("full_scans");
            var clock = Stopwatch.StartNew();
            while (Read("full_scans") < start + scans && clock.Elapsed < timeout)
                await Task.Delay(500, token);
            return $"; ksmd: {Read("full_scans") - start} full scans in {clock.Elapsed.TotalSeconds:0} s, {Read("pages_sharing") * 4 / 1024} MiB of pages merged into {Read("pages_shared") * 4 / 1024} MiB";
        }

        public void Restore()
        {
            foreach (var name in new[] { "pages_to_scan", "sleep_millisecs", "run" })
            {
                if (!_saved.TryGetValue(name, out var value))
                    continue;
                try
                {
                    // run = 2 unmerges what ksmd merged before it stops.
                    if (name == "run" && value == "0")
                        File.WriteAllText(Path.Combine(Dir, "run"), "2");
                    File.WriteAllText(Path.Combine(Dir, name), value);
                }
                catch (IOException)
                {
                }
            }
        }

        private static long Read(string name) =>
            long.TryParse(File.ReadAllText(Path.Combine(Dir, name)).Trim(), CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
