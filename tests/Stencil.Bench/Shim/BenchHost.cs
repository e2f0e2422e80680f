using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.TestSupport;

namespace Stencil.Bench.Shim;

/// <summary>What the numbers were measured on, printed at the top of the benchmark's output.</summary>
internal sealed record BenchHost(
    Accelerator Accelerator,
    string? KvmProblem,
    int Cores,
    string CpuModel,
    string QemuVersion,
    string ContainerdVersion,
    string HostKernel,
    long MemoryMiB)
{
    public static async Task<BenchHost> ProbeAsync(CancellationToken cancellationToken)
    {
        // The same probe the shim's factory uses, so the accelerator printed is the one the VMs get.
        var accelerator = VmFactoryOptions.DetectAccelerator();
        var capabilities = await new HostProbe().ProbeAsync(cancellationToken).ConfigureAwait(false);
        var containerd = await ChildProcess.RunAsync("containerd", ["--version"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return new BenchHost(
            accelerator,
            capabilities.KvmProblem,
            Environment.ProcessorCount,
            ProcLine("/proc/cpuinfo", "model name") ?? "unknown CPU",
            capabilities.QemuVersionLine ?? capabilities.QemuProblem ?? "unknown",
            containerd.ExitCode == 0 ? containerd.Stdout.Trim() : "unknown",
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            long.TryParse(ProcLine("/proc/meminfo", "MemTotal")?.Split(' ')[0], out var kib) ? kib / 1024 : 0);
    }

    public IEnumerable<string> Describe()
    {
        var why = Accelerator == Accelerator.Tcg && KvmProblem is not null ? $" ({KvmProblem})" : "";
        yield return $"accelerator: {Accelerator.ToString().ToUpperInvariant()}{why}";
        yield return $"host: {Cores} cores ({CpuModel}), {MemoryMiB} MiB, kernel {HostKernel}, load average {LoadAverage()}";
        yield return $"qemu: {QemuVersion}";
        yield return $"containerd: {ContainerdVersion}";
    }

    /// <summary>The 1/5/15-minute load averages: other work on the machine makes the timings noisy.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string? ProcLine(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == key)
                return line[(colon + 1)..].Trim();
        }
        return null;
    }
}
