using System.Diagnostics;
using System.Runtime.InteropServices;
using Stencil.TestSupport;
using Stencil.Bench.Cri;
using Stencil.Bench.Shim;
using Stencil.Cri;
using Stencil.Cri.Tests;
using static Stencil.Bench.Shim.Stats;

namespace Stencil.Bench;

/// <summary>
/// Stencil through containerd's CRI plugin, as a kubelet drives it (the CRI tests' StencilCriFixture:
/// private containerd, runtime handlers "runc", "stencil" and, on containerd 2.x, "stencil-sandbox" (the
/// same shim as the pod's sandbox through the sandbox API: no pause container), private CNI bridge):
/// (1) RunPodSandbox + CreateContainer + StartContainer until ExecSync answers, the handlers interleaved,
/// after one warm-up pod of each (the first stencil one builds the template); (2) ten stencil pods at
/// once (per stencil handler): until all answer ExecSync, and their teardown; (3) PSS per idle pod
/// (shim + QEMU) with 1, 10 and 20 pods, and pause container vs sandbox API side by side.
/// Ignores --duration and --warmup: the work is a fixed number of pods.
/// </summary>
public sealed class CriBenchmark : IBenchmark
{
    private const int Rounds = 5;
    private const int ConcurrentPods = 10;
    private const int StartBatch = 5;
    private static readonly int[] s_memoryCounts = [1, 10, 20];
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(5);

    public string Name => "cri";

    public string Description => "CRI: pod start to first exec runc vs stencil; 10 pods at once; PSS per idle pod at 1/10/20 pods";

    public Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken) =>
        RunSectionsAsync(output, startOnly: false, cancellationToken);

    /// <param name="startOnly">Only section 1 (template clones, then the factory daemon's pool): `cri-start`.</param>
    internal static async Task RunSectionsAsync(TextWriter output, bool startOnly, CancellationToken cancellationToken)
    {
        // SIGTERM/SIGHUP cancel like Ctrl-C, so the pods and containerd are still removed.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; stop.Cancel(); });
        var token = stop.Token;
        var total = Stopwatch.StartNew();

        var host = await BenchHost.ProbeAsync(token);
        output.WriteLine("cri: Stencil through containerd's CRI plugin (private containerd, handlers runc, stencil (pause container), stencil-sandbox (sandbox API, containerd 2.x), " +
            "stencil-pause (pause image run by crun) and stencil-dense (the dense preset), busybox, real VMs)");
        foreach (var line in host.Describe())
            output.WriteLine($"  {line}");
        output.WriteLine($"  caveat: {host.Cores} cores shared with whatever else runs here; timings are noisy, compare within one run");

        var fixture = new StencilCriFixture();
        // InitializeAsync disposes the fixture itself when it fails.
        await fixture.InitializeAsync();
        var pods = new List<CriPod>();
        try
        {
            await StartSectionAsync(fixture, pods, output, null, token);
            if (!startOnly)
            {
                await ConcurrentSectionAsync(fixture, pods, output, null, token);
                await ConcurrentSectionAsync(fixture, pods, output, null, StencilCriFixture.DenseHandler, token);
            }
            // The same two with the node's factory daemon (its socket is the one the fixture's configuration names).
            await using (var daemon = await FactoryDaemonProcess.StartAsync(fixture.ConfigPath, 1, token))
            {
                output.WriteLine();
                output.WriteLine("with the factory daemon (`stencil factory serve`, pool of 1; the bench waits, untimed, for a ready clone before each stencil pod):");
                await StartSectionAsync(fixture, pods, output, daemon, token);
            }
            if (startOnly)
                return;
            await using (var daemon = await FactoryDaemonProcess.StartAsync(fixture.ConfigPath, ConcurrentPods, token))
            {
                output.WriteLine();
                output.WriteLine($"with the factory daemon holding {ConcurrentPods} ready clones:");
                await ConcurrentSectionAsync(fixture, pods, output, daemon, token);
            }
            await MemorySectionAsync(fixture, pods, output, token);
            await MemoryByHandlerSectionAsync(fixture, pods, output, token);
            await MemoryByComponentSectionAsync(fixture, pods, output, StencilCriFixture.Handler, token);
            await MemoryByComponentSectionAsync(fixture, pods, output, StencilCriFixture.DenseHandler, token);
        }
        finally
        {
            await CriBenchPod.DisposeAllAsync(pods);
            var qemu = fixture.QemuProcesses();
            await fixture.DisposeAsync();
            output.WriteLine();
            output.WriteLine(qemu.Count == 0
                ? "cleanup: every pod removed, no QEMU left; containerd stopped, bridge and folders deleted"
                : $"cleanup WARNING: QEMU still running after the pods were removed: {string.Join("; ", qemu)}");
            output.WriteLine($"cri benchmark took {total.Elapsed.TotalSeconds:0} s; load average now {BenchHost.LoadAverage()}");
        }
    }

    private static async Task StartSectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, FactoryDaemonProcess? daemon,
        CancellationToken token)
    {
        // The pause container served by crun (sandbox_container = "runtime") beside the default (the agent's holder).
        // The dense preset only without the daemon: its pods never take the pool's clones (other QEMU settings).
        string[] handlers = ["runc", .. StencilHandlers(fixture), StencilCriFixture.PauseRuntimeHandler, .. (daemon is null ? [StencilCriFixture.DenseHandler] : Array.Empty<string>())];
        var tag = daemon is null ? "" : "pool-";
        output.WriteLine();
        var warm = Stopwatch.StartNew();
        foreach (var handler in handlers)
        {
            if (daemon is not null && handler != "runc")
                await daemon.WaitForReadyAsync(1, token);
            var s = await CriBenchPod.StartAsync(fixture, $"warm-{tag}{handler}", handler, pods, token);
            await CriBenchPod.RemoveAllAsync(pods, token);
            output.WriteLine($"warm-up pod {handler}: {S(s)} s to first exec (not counted; the stencil one builds the template)");
        }

        var samples = handlers.ToDictionary(h => h, _ => new List<double>());
        var calls = handlers.ToDictionary(h => h, _ => new List<CriStartTimes>());
        for (var round = 0; round < Rounds; round++)
        {
            // Interleaved, order alternating, so drift in the machine's load hits both alike.
            for (var i = 0; i < handlers.Length; i++)
            {
                var handler = handlers[(i + round) % handlers.Length];
                if (daemon is not null && handler != "runc")
                    await daemon.WaitForReadyAsync(1, token);
                var times = await CriBenchPod.StartTimedAsync(fixture, $"start-{tag}{handler}-{round}", handler, pods, token);
                samples[handler].Add(times.Total);
                calls[handler].Add(times);
                await CriBenchPod.RemoveAllAsync(pods, token);
            }
        }
        output.WriteLine();
        output.WriteLine($"1{(daemon is null ? "" : "b")}. RunPodSandbox + CreateContainer + StartContainer until ExecSync `true` answers: {Rounds} pods of each, interleaved, one at a time" +
            (daemon is null ? " (no factory daemon: template clones)" : " (stencil VMs from the factory daemon's pool)"));
        output.WriteLine($"   {"handler",-16} {"median",7} {"min",6} {"max",6}  samples (s)");
        foreach (var handler in handlers)
        {
            var v = samples[handler];
            output.WriteLine($"   {handler,-16} {S(Median(v)),7} {S(v.Min()),6} {S(v.Max()),6}  {string.Join(' ', v.Select(S))}");
        }
        output.WriteLine($"   per CRI call, medians (s): {"handler",-16} {"RunPodSandbox",13} {"Create",7} {"Start",7} {"ExecSync",9}");
        foreach (var handler in handlers)
        {
            var c = calls[handler];
            output.WriteLine($"   {"",27}{handler,-16} {S(Median(c.Select(t => t.Run).ToList())),13} {S(Median(c.Select(t => t.Create).ToList())),7} " +
                $"{S(Median(c.Select(t => t.Start).ToList())),7} {S(Median(c.Select(t => t.Exec).ToList())),9}");
        }
        foreach (var handler in handlers.Skip(1))
        {
            var ratio = Median(samples[handler]) / Median(samples["runc"]);
            output.WriteLine($"   {handler}/runc median ratio: {X(ratio)}" + (daemon is null ? "" : $"; target <= 4x runc {(ratio <= 4 ? "PASS" : "FAIL")}"));
        }
        if (samples.TryGetValue(StencilCriFixture.SandboxHandler, out var sandboxSamples))
        {
            var pause = Median(samples[StencilCriFixture.Handler]);
            var sandbox = Median(sandboxSamples);
            output.WriteLine($"   sandbox API vs pause container: {S(sandbox)} vs {S(pause)} s, {X(sandbox / pause)} ({(pause - sandbox) * 1000:0} ms saved per pod)");
        }
    }

    private static async Task ConcurrentSectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, FactoryDaemonProcess? daemon,
        CancellationToken token)
    {
        foreach (var handler in StencilHandlers(fixture))
            await ConcurrentSectionAsync(fixture, pods, output, daemon, handler, token);
    }

    private static async Task ConcurrentSectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, FactoryDaemonProcess? daemon,
        string handler, CancellationToken token)
    {
        if (daemon is not null)
            await daemon.WaitForReadyAsync(ConcurrentPods, token);
        var tag = daemon is null ? "" : "pool-";
        var clock = Stopwatch.StartNew();
        var each = await Task.WhenAll(Enumerable.Range(0, ConcurrentPods)
            .Select(i => CriBenchPod.StartAsync(fixture, $"many-{tag}{handler}-{i}", handler, pods, token)));
        var allUp = clock.Elapsed.TotalSeconds;
        foreach (var pod in pods)
        {
            var state = (await pod.StatusAsync(token)).State;
            if (state != Stencil.Cri.V1.PodSandboxState.SandboxReady)
                throw new InvalidOperationException($"pod {pod.Config.Metadata.Name} is {state} after answering ExecSync");
        }
        var qemu = fixture.QemuProcesses().Count;
        var teardown = await CriBenchPod.RemoveAllAsync(pods, token);
        output.WriteLine();
        output.WriteLine($"2{(daemon is null ? "" : "b")}. {ConcurrentPods} {handler} pods started at once (RunPodSandbox..ExecSync each, all in parallel)" +
            (daemon is null ? " (no factory daemon)" : $" (VMs from the factory daemon's {ConcurrentPods} ready clones)"));
        output.WriteLine($"   all Running and answering ExecSync after {S(allUp)} s ({qemu} QEMU processes); per pod median {S(Median(each))} s, min {S(each.Min())}, max {S(each.Max())}" +
            (daemon is null ? "" : $"; target <= 8 s {(allUp <= 8 ? "PASS" : "FAIL")}"));
        output.WriteLine($"   teardown of all {ConcurrentPods} at once (StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox): {S(teardown)} s");
    }

    private static async Task MemorySectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, CancellationToken token)
    {
        output.WriteLine();
        output.WriteLine($"3. PSS of idle stencil pods (shim daemon + QEMU, Pss of /proc/PID/smaps_rollup), pods started {StartBatch} at a time, measured {s_settle.TotalSeconds:0} s after the last answered ExecSync");
        output.WriteLine($"   {"pods",5} {"per pod median",15} {"min",6} {"max",6} {"total",8}  (MiB)   start time");
        foreach (var count in s_memoryCounts)
        {
            var clock = Stopwatch.StartNew();
            while (pods.Count < count)
            {
                var batch = Math.Min(StartBatch, count - pods.Count);
                var first = pods.Count;
                await Task.WhenAll(Enumerable.Range(first, batch)
                    .Select(i => CriBenchPod.StartAsync(fixture, $"mem-{i}", StencilCriFixture.Handler, pods, token)));
            }
            var started = clock.Elapsed.TotalSeconds;
            await Task.Delay(s_settle, token);
            var per = pods.Select(p => PodMemory.Read(p.Id, fixture.SocketDir).PodPssKiB).Select(k => (double)k).ToList();
            output.WriteLine($"   {count,5} {MiB(Median(per)),15} {MiB(per.Min()),6} {MiB(per.Max()),6} {MiB(per.Sum()),8}          {S(started)} s to add {count - (count == s_memoryCounts[0] ? 0 : PreviousCount(count))} pod(s)");
        }
        var teardown = await CriBenchPod.RemoveAllAsync(pods, token);
        output.WriteLine($"   teardown of {s_memoryCounts[^1]} pods at once: {S(teardown)} s");
    }

    /// <summary>
    /// The same number of idle pods with each stencil handler, one handler after the other: what the pause
    /// container costs a pod in memory (its processes and page cache live in the guest, so in QEMU's PSS).
    /// </summary>
    private static async Task MemoryByHandlerSectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, CancellationToken token)
    {
        var handlers = StencilHandlers(fixture);
        if (handlers.Count < 2)
            return;
        const int count = StartBatch;
        output.WriteLine();
        output.WriteLine($"3b. PSS of {count} idle pods per handler (one container each, pods of one handler at a time), measured {s_settle.TotalSeconds:0} s after the last answered ExecSync");
        output.WriteLine($"   {"handler",-16} {"per pod median",15} {"min",6} {"max",6}  (MiB)");
        var medians = new Dictionary<string, double>();
        foreach (var handler in handlers)
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => CriBenchPod.StartAsync(fixture, $"memh-{handler}-{i}", handler, pods, token)));
            await Task.Delay(s_settle, token);
            var per = pods.Select(p => PodMemory.Read(p.Id, fixture.SocketDir).PodPssKiB).Select(k => (double)k).ToList();
            medians[handler] = Median(per);
            output.WriteLine($"   {handler,-16} {MiB(Median(per)),15} {MiB(per.Min()),6} {MiB(per.Max()),6}");
            await CriBenchPod.RemoveAllAsync(pods, token);
        }
        var pause = medians[StencilCriFixture.Handler];
        var sandbox = medians[StencilCriFixture.SandboxHandler];
        output.WriteLine($"   sandbox API vs pause container: {X(sandbox / pause)} ({(pause - sandbox) / 1024:0.0} MiB less per pod)");
    }

    private const double CriPodTargetMiB = 75;

    /// <summary>
    /// Idle pause-container pods of <paramref name="handler"/> (the default, or the dense preset: config/configuration-dense.toml
    /// based on the fixture's configuration, so the same template serves), their PSS by component (<see cref="PodBreakdown"/>):
    /// one pod alone first (what the RuntimeClass overhead must cover: QEMU is in the pod's cgroup), then twenty.
    /// </summary>
    private static async Task MemoryByComponentSectionAsync(StencilCriFixture fixture, List<CriPod> pods, TextWriter output, string handler, CancellationToken token)
    {
        const int count = 20;
        try
        {
            await CriBenchPod.StartAsync(fixture, "memc-0", handler, pods, token);
            await Task.Delay(s_settle, token);
            var alone = PodBreakdown.Read(pods[0].Id, fixture.SocketDir, fixture.TemplateDir);
            for (var first = 1; first < count; first += StartBatch)
                await Task.WhenAll(Enumerable.Range(first, Math.Min(StartBatch, count - first)).Select(i => CriBenchPod.StartAsync(fixture, $"memc-{i}", handler, pods, token)));
            await Task.Delay(s_settle, token);
            var per = pods.Select(p => PodBreakdown.Read(p.Id, fixture.SocketDir, fixture.TemplateDir)).ToList();
            var m = PodBreakdown.Median(per);
            var median = Median(per.Select(p => (double)p.Pod));
            output.WriteLine();
            output.WriteLine($"3{(handler == StencilCriFixture.Handler ? "c" : "d")}. idle pause-container pods, handler {handler} " +
                $"({(handler == StencilCriFixture.Handler ? "the product's defaults" : "the dense preset, config/configuration-dense.toml")}): " +
                $"alone {MiB(alone.Pod)} MiB (TCG code {MiB(alone.TcgCode)}); at {count} pods PSS per pod median {MiB(median)} MiB = shim {MiB(m.Shim)}, TCG code {MiB(m.TcgCode)}, " +
                $"QEMU heap {MiB(m.QemuHeap)}, libs {MiB(m.QemuFiles)}, template shared {MiB(m.TemplateShared)}, guest-written {MiB(m.GuestWritten)}, other {MiB(m.Other)} (medians per column)");
            output.WriteLine($"   target: PSS per idle CRI pod <= {CriPodTargetMiB:0} MiB at {count} pods: {MiB(median)} MiB {(median / 1024 <= CriPodTargetMiB ? "PASS" : "FAIL")}");
        }
        finally
        {
            await CriBenchPod.RemoveAllAsync(pods, token);
        }
    }

    /// <summary>The stencil handlers this containerd has: the sandbox API one only on 2.x.</summary>
    private static List<string> StencilHandlers(StencilCriFixture fixture) =>
        fixture.Containerd.Version is { Major: >= 2 } ? [StencilCriFixture.Handler, StencilCriFixture.SandboxHandler] : [StencilCriFixture.Handler];

    private static int PreviousCount(int count) => s_memoryCounts[Array.IndexOf(s_memoryCounts, count) - 1];
}
