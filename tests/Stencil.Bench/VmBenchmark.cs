using System.Diagnostics;
using System.Globalization;
using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.TestSupport;

namespace Stencil.Bench;

/// <summary>
/// VM start and memory with the real guest image (`make guest`): cold boot vs template clone until
/// the agent answers (interleaved), PSS per QEMU for 1, 4 and 8 clones vs cold VMs, and the pool's
/// hand-over. Private template folder and scratch under /tmp; everything is removed at the end.
/// </summary>
public sealed class VmBenchmark : IBenchmark
{
    private const int Runs = 7;
    private static readonly int[] s_counts = [1, 4, 8];

    public string Name => "vm";

    public string Description => "cold boot vs template clone to agent ready, PSS per VM (1/4/8), pool hand-over";

    public async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        GuestImage.Require();
        var scratch = Directory.CreateTempSubdirectory("stencil-bench-vm-").FullName;
        var factoryOptions = new VmFactoryOptions
        {
            Description = new VmDescription
            {
                Accelerator = VmFactoryOptions.DetectAccelerator(),
                Cpus = new CpuTopology(1, 2),
                Memory = new MemoryLayout(256, 1024, 2),
                Kernel = new KernelBoot(GuestImage.Kernel, GuestImage.Initrd, GuestKernelCommandLine.Default),
                HotplugRootPorts = 2,
                SharedFolder = new SharedFolderDevice("stencil"),
                VmGenId = true,
                Rng = true,
                SerialConsole = true,
            },
            TemplatePath = Path.Combine(scratch, "template"),
            PoolDirectory = Path.Combine(scratch, "pool"),
            AgentTimeout = TimeSpan.FromSeconds(120),
        };
        var factory = new VmFactory(factoryOptions, NullLog.Instance);
        var next = 0;
        VmRequest NewRequest()
        {
            var dir = Path.Combine(scratch, "vm" + Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(Path.Combine(dir, "shared"));
            return new VmRequest(Path.GetFileName(dir), dir, Path.Combine(dir, "shared"));
        }

        try
        {
            var d = factoryOptions.Description;
            var built = await factory.EnsureTemplateAsync(cancellationToken: cancellationToken);
            var t = built.Template;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"vm: {d.Machine}, {d.Accelerator}, {d.Cpus.Boot} vCPU, {d.Memory.SizeMiB} MiB, guest image build/guest; {Environment.ProcessorCount} host CPUs (shared: numbers are noisy)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"template: built in {t.BuildTime.TotalSeconds:F2} s; memory file {t.MemoryFileBytes >> 20} MiB ({t.MemoryFileAllocatedBytes >> 20} MiB allocated), state {t.StateFileBytes >> 10} KiB"));

            // 1. Time to a ready agent, cold and cloned, one after another so drift hits both alike.
            var cold = new List<double>();
            var clone = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                cold.Add(await TimeReadyAsync(() => factory.ColdBootAsync(NewRequest(), cancellationToken), VmOrigin.ColdBoot));
                clone.Add(await TimeReadyAsync(() => factory.CloneAsync(NewRequest(), cancellationToken), VmOrigin.TemplateClone));
            }
            var coldMedian = Median(cold);
            var cloneMedian = Median(clone);
            output.WriteLine();
            output.WriteLine($"{"start to agent ready",-22} {"median",8} {"min",8} {"max",8} {"runs",5}");
            output.WriteLine(Row("cold boot", cold));
            output.WriteLine(Row("template clone", clone));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"ratio cold/clone",-22} {coldMedian / cloneMedian,7:F1}x   target: clone <= 0.35 s ({Verdict(cloneMedian <= 0.35)}), >= 8x ({Verdict(coldMedian / cloneMedian >= 8)})"));

            // 2. PSS per QEMU with 1, 4, 8 VMs of a kind running (shared template pages are split among clones).
            var clonePss = await PssAsync(() => factory.CloneAsync(NewRequest(), cancellationToken), cancellationToken);
            var coldPss = await PssAsync(() => factory.ColdBootAsync(NewRequest(), cancellationToken), cancellationToken);
            output.WriteLine();
            output.WriteLine($"{"PSS per VM (MiB)",-22} {string.Join(" ", s_counts.Select(c => $"{c + (c == 1 ? " VM" : " VMs"),8}"))}");
            output.WriteLine($"{"cold boot",-22} {string.Join(" ", coldPss.Select(p => p.ToString("F1", CultureInfo.InvariantCulture).PadLeft(8)))}");
            output.WriteLine($"{"template clone",-22} {string.Join(" ", clonePss.Select(p => p.ToString("F1", CultureInfo.InvariantCulture).PadLeft(8)))}");
            var shares = clonePss.Zip(coldPss, (c, k) => c / k).ToArray();
            output.WriteLine($"{"clone / cold",-22} {string.Join(" ", shares.Select(s => s.ToString("P0", CultureInfo.InvariantCulture).PadLeft(8)))}   target <= 25% ({Verdict(shares.All(s => s <= 0.25))})");

            // 3. Pool hand-over: a paused, pre-connected clone resumed and fixed up.
            var pooled = new VmFactory(factoryOptions with { PoolSize = 2 }, NullLog.Instance);
            var handOver = new List<double>();
            try
            {
                var pool = pooled.StartPool();
                for (var i = 0; i < Runs; i++)
                {
                    await pool.WaitForReadyAsync(2, TimeSpan.FromSeconds(120), cancellationToken);
                    handOver.Add(await TimeReadyAsync(() => pooled.StartVmAsync(NewRequest(), cancellationToken), VmOrigin.Pool));
                }
            }
            finally
            {
                await pooled.DisposeAsync();
            }
            output.WriteLine();
            output.WriteLine($"{"pool hand-over",-22} {"median",8} {"min",8} {"max",8} {"runs",5}");
            output.WriteLine(Row("resume + fix-ups", handOver, milliseconds: true) + $"   target <= 50 ms ({Verdict(Median(handOver) <= 0.050)})");
        }
        finally
        {
            await factory.DestroyAsync(CancellationToken.None);
            await factory.DisposeAsync();
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Wall time of one start (the VM is disposed after).</summary>
    private static async Task<double> TimeReadyAsync(Func<Task<FactoryVm>> start, VmOrigin expected)
    {
        var clock = Stopwatch.StartNew();
        await using var vm = await start();
        var seconds = clock.Elapsed.TotalSeconds;
        if (vm.Origin != expected)
            throw new InvalidOperationException($"{vm.Name} came from {vm.Origin}, expected {expected} ({vm.FallbackReason})");
        if (!await vm.Agent.CheckAsync())
            throw new InvalidOperationException($"{vm.Name}: the agent is not serving");
        return seconds;
    }

    /// <summary>Starts VMs one by one; at each count of <see cref="s_counts"/>, the mean PSS of the running QEMUs.</summary>
    private static async Task<double[]> PssAsync(Func<Task<FactoryVm>> start, CancellationToken cancellationToken)
    {
        var vms = new List<FactoryVm>();
        var result = new List<double>();
        try
        {
            foreach (var count in s_counts)
            {
                while (vms.Count < count)
                    vms.Add(await start());
                // Let the newest guest settle (its agent has just answered) before reading.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                result.Add(vms.Average(vm => PssMiB(vm.ProcessId!.Value)));
            }
        }
        finally
        {
            foreach (var vm in vms)
                await vm.DisposeAsync();
        }
        return [.. result];
    }

    private static double PssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
                return long.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        throw new InvalidOperationException($"/proc/{pid}/smaps_rollup has no Pss line");
    }

    private static string Row(string name, List<double> seconds, bool milliseconds = false)
    {
        string F(double s) => milliseconds
            ? (s * 1000).ToString("F1", CultureInfo.InvariantCulture) + " ms"
            : s.ToString("F2", CultureInfo.InvariantCulture) + " s";
        return $"{name,-22} {F(Median(seconds)),8} {F(seconds.Min()),8} {F(seconds.Max()),8} {seconds.Count,5}";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Verdict(bool met) => met ? "met" : "missed";
}
