using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Stencil.Bench.Shim;
using Stencil.Factory;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;
using Stencil.TestSupport;
using static Stencil.Bench.Shim.Stats;

namespace Stencil.Bench;

/// <summary>
/// Checkpoint and restore of a whole pod VM through containerd and ctr (`ctr container checkpoint --task`,
/// `ctr container restore --live`), pods with shared_fs = "none": an idle busybox and one that has dirtied
/// 128 MiB of guest memory (dd through a 128 MiB buffer), each with checkpoint_memory = "diff" (the
/// pages the clone wrote) and "full" (every non-zero page). Medians of a few rounds: the checkpoint's
/// size in containerd's content store, the time of `ctr container checkpoint` and of the shim's part, the
/// time of `ctr container restore` and until the first exec in the restored pod answers.
/// </summary>
public sealed partial class CheckpointBenchmark : IBenchmark
{
    private const int Rounds = 3;

    public string Name => "checkpoint";

    public string Description => "ctr container checkpoint/restore of a pod VM: size and times, idle and 128 MiB dirtied, diff and full memory";

    private sealed record Workload(string Name, string Label, string[] Command, string? ReadyFile);

    public async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var token = stop.Token;
        var host = await BenchHost.ProbeAsync(token);
        output.WriteLine("checkpoint: a pod VM saved and restored through containerd (private containerd, ctr, busybox image, real VMs)");
        foreach (var line in host.Describe())
            output.WriteLine($"  {line}");
        output.WriteLine($"  caveat: {host.Cores} cores shared with whatever else runs here; timings are noisy, compare within one run");

        await using var environment = await BenchEnvironment.StartAsync(token);
        VmFactory? factory = null;
        try
        {
            // 512 MiB: a guest of 256 MiB has about 85 MiB free, too little to dirty 128 MiB in one buffer.
            const string hypervisor = "shared_fs = \"none\"\ndefault_memory = 512";
            var diff = environment.WriteConfig("cp-diff", "enable_template = true", hypervisorKeys: hypervisor, runtimeKeys: "checkpoint_memory = \"diff\"");
            var full = environment.WriteConfig("cp-full", "enable_template = true", hypervisorKeys: hypervisor, runtimeKeys: "checkpoint_memory = \"full\"");
            factory = new VmFactory(FactoryOptionsFromConfig.Create(ConfigLoader.ReadFile(diff)), new CollectingLog());
            var built = await factory.EnsureTemplateAsync(rebuild: false, token);
            output.WriteLine($"  template: built once before any timing in {S(built.Elapsed.TotalSeconds)} s; guest memory {factory.Options.Description.Memory.SizeMiB} MiB");
            output.WriteLine($"  rounds: {Rounds} per row, one pod at a time; sizes are the checkpoint blob in containerd's content store");
            output.WriteLine();

            var workloads = new[]
            {
                new Workload("idle", "idle busybox (sleep)", ["sleep", "100000"], null),
                new Workload("dirty", "128 MiB dirtied (dd through a 128 MiB buffer)",
                    ["sh", "-c", "dd if=/dev/urandom of=/dev/null bs=128M count=1 2>/dev/null && touch /dev/shm/dirtied; sleep 100000"], "/dev/shm/dirtied"),
            };
            output.WriteLine("| pod | memory | checkpoint size | memory pages | ctr checkpoint | shim's part (vm saved) | ctr restore | restore to first exec | shim's restore (vm) |");
            output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var workload in workloads)
            {
                foreach (var (mode, config) in new[] { ("diff", diff), ("full", full) })
                {
                    var rows = new List<Round>();
                    for (var round = 0; round < Rounds; round++)
                        rows.Add(await RoundAsync(environment, workload, config, $"cp-{workload.Name}-{mode}-{round}", token));
                    output.WriteLine($"| {workload.Label} | {mode} | {MiB(Median(rows.Select(r => r.SizeKiB)))} MiB | {Median(rows.Select(r => r.Pages)):0} " +
                        $"| {S(Median(rows.Select(r => r.CheckpointSeconds)))} s | {Ms(Median(rows.Select(r => r.ShimMs)))} ms ({Ms(Median(rows.Select(r => r.VmSavedMs)))} ms) " +
                        $"| {S(Median(rows.Select(r => r.RestoreSeconds)))} s | {S(Median(rows.Select(r => r.FirstExecSeconds)))} s | {Ms(Median(rows.Select(r => r.ShimRestoreMs)))} ms ({Ms(Median(rows.Select(r => r.VmRestoreMs)))} ms) |");
                }
            }
            output.WriteLine();
            output.WriteLine("  ctr checkpoint: `ctr container checkpoint --task` wall time (ctr pauses the task, the shim saves, containerd tars the folder into its content store);");
            output.WriteLine("  shim's part: from the shim's log (\"vm saved in\": pause + device state + memory pages; the rest is the root disk's blocks and the files' SHA-256);");
            output.WriteLine("  ctr restore: `ctr container restore --live` wall time; restore to first exec: from its start until `ctr task exec true` in the pod answers.");
        }
        finally
        {
            var report = await environment.CleanUpAsync();
            if (factory is not null)
                await factory.DisposeAsync();
            output.WriteLine();
            output.WriteLine(report.Count == 0 ? "cleanup: containerd stopped; no shim, QEMU or mount of this run was left behind" : string.Join('\n', report.Select(l => $"cleanup WARNING: {l}")));
        }
    }

    private sealed record Round(double SizeKiB, double Pages, double CheckpointSeconds, double ShimMs, double VmSavedMs, double RestoreSeconds, double FirstExecSeconds,
        double ShimRestoreMs, double VmRestoreMs);

    private static async Task<Round> RoundAsync(BenchEnvironment e, Workload workload, string config, string id, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        var image = $"stencil-bench/{id}:1";
        (await e.CtrAsync(["run", "-d", "--runtime", "io.containerd.stencil.v2", "--runtime-config-path", config, BenchEnvironment.Image, id, .. workload.Command]))
            .EnsureSuccess($"ctr run {id}");
        var execs = 0;
        async Task<bool> ExecAsync(string command) =>
            (await e.CtrAsync("task", "exec", "--exec-id", $"x{++execs}", id, "sh", "-c", command)).ExitCode == 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!await ExecAsync(workload.ReadyFile is null ? "true" : $"test -e {workload.ReadyFile}"))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{id}: not ready within 2 minutes");
            await Task.Delay(500, token);
        }
        await Task.Delay(1000, token);

        var logBefore = e.ContainerdLog().Count;
        var (checkpoint, checkpointTime, _) = await e.TimeCtrAsync(["container", "checkpoint", "--task", id, image]);
        checkpoint.EnsureSuccess($"ctr container checkpoint {id}");
        var saved = e.ContainerdLog().Skip(logBefore).Select(l => CheckpointLine().Match(l)).LastOrDefault(m => m.Success)
            ?? throw new InvalidOperationException($"{id}: no checkpoint line in the shim's log");
        var size = CheckpointSizeKiB(e, image, await e.CtrAsync("image", "ls"));

        (await e.CtrAsync("task", "rm", "-f", id)).EnsureSuccess($"task rm {id}");
        (await e.CtrAsync("container", "rm", id)).EnsureSuccess($"container rm {id}");

        logBefore = e.ContainerdLog().Count;
        var clock = Stopwatch.StartNew();
        var (restore, restoreTime, _) = await e.TimeCtrAsync(["container", "restore", "--live", id, image]);
        restore.EnsureSuccess($"ctr container restore {id}");
        while (!await ExecAsync("true"))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
                throw new TimeoutException($"{id}: the restored pod does not answer exec");
        }
        var firstExec = clock.Elapsed;
        var restored = e.ContainerdLog().Skip(logBefore).Select(l => RestoreLine().Match(l)).LastOrDefault(m => m.Success)
            ?? throw new InvalidOperationException($"{id}: no restore line in the shim's log");

        (await e.CtrAsync("task", "rm", "-f", id)).EnsureSuccess($"task rm {id} (restored)");
        (await e.CtrAsync("container", "rm", id)).EnsureSuccess($"container rm {id} (restored)");
        await e.CtrAsync("image", "rm", image);
        return new Round(size, Number(saved, "pages"), checkpointTime.TotalSeconds, Number(saved, "all"), Number(saved, "vm"), restoreTime.TotalSeconds, firstExec.TotalSeconds,
            Number(restored, "all"), Number(restored, "vm"));
    }

    private static double Number(Match m, string group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    private static double CheckpointSizeKiB(BenchEnvironment e, string image, CommandResult images) =>
        new FileInfo(CheckpointImage.TaskDataBlob(e.Containerd, image, images)).Length / 1024.0;

    [GeneratedRegex(@"checkpoint in \S+: memory \w+ \((?<pages>\d+) pages\).*vm saved in (?<vm>\d+) ms, all in (?<all>\d+) ms")]
    private static partial Regex CheckpointLine();

    [GeneratedRegex(@"restored from \S+ \(memory \w+\): root disk \d+ ms, vm (?<vm>\d+) ms, all (?<all>\d+) ms")]
    private static partial Regex RestoreLine();
}
