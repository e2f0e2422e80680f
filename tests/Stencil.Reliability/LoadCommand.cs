using System.Globalization;
using Stencil.Reliability.Load;

namespace Stencil.Reliability;

/// <summary>`load [--cycles N] [--concurrent N]`: the load scenarios in a private containerd of their own.</summary>
internal static class LoadCommand
{
    public const string Usage = "load [--cycles N] [--concurrent N]";

    /// <summary>Runs the scenarios and prints the table; 0 when nothing failed or leaked, else 1.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var plan = LoadPlan.Full;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? Number(args[i + 1], args[i]) : throw new ArgumentException($"{args[i]} needs a value ({Usage})");
            plan = args[i] switch
            {
                "--cycles" => plan with { Cycles = value },
                "--concurrent" => plan with { ConcurrentPods = value },
                _ => throw new ArgumentException($"unknown option {args[i]} ({Usage})"),
            };
        }
        await using var environment = await LoadEnvironment.StartAsync(cancellationToken).ConfigureAwait(false);
        var version = environment.Containerd.Version;
        output.WriteLine($"load: containerd {version?.ToString() ?? "?"}, {Environment.ProcessorCount} cores, {await AcceleratorAsync(cancellationToken).ConfigureAwait(false)}, shim {Stencil.TestSupport.ShimBinaries.Shim}");
        var results = await LoadRun.RunAsync(environment.Host, plan, output, cancellationToken).ConfigureAwait(false);
        LoadTable.Write(output, results);
        return results.All(r => r.Passed) ? 0 : 1;
    }

    /// <summary>What QEMU will use, as the shim decides it (HostProbe: /dev/kvm opens and a kvm module is loaded).</summary>
    private static async Task<string> AcceleratorAsync(CancellationToken cancellationToken)
    {
        var host = await new Stencil.Hypervisor.HostProbe().ProbeAsync(cancellationToken).ConfigureAwait(false);
        return host.KvmUsable ? "KVM" : $"TCG ({host.KvmProblem})";
    }

    private static int Number(string value, string option) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{option} {value}: expected a whole number");
}
