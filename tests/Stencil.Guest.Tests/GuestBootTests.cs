using System.Diagnostics;
using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>The guest image booted in a real QEMU (TCG here, KVM where it is usable).</summary>
public sealed class GuestBootTests(ITestOutputHelper output)
{
    // A cold boot takes ~2 s under TCG on an idle machine; the margin is for a busy shared one.
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BootsToTheReadyMarkerWithEveryModuleLoaded()
    {
        var (qemu, arguments) = Boot(extraKernelArgs: "");
        var clock = Stopwatch.StartNew();
        await using var vm = ChildProcess.Start(qemu, arguments);

        // "contains": SeaBIOS leaves "Booting from ROM.." without a newline before the first line.
        var ready = await vm.WaitForLineAsync(l => l.Contains("stencil-init: ready in ", StringComparison.Ordinal), BootTimeout);

        output.WriteLine($"ready {clock.Elapsed.TotalSeconds:F2} s after QEMU started: {ready}");
        var console = vm.StdoutLines;
        Assert.Contains(console, l => l.Contains("stencil-init: modules ok", StringComparison.Ordinal));
        Assert.DoesNotContain(console, l => l.Contains("stencil-init: modules failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheOciRuntimeRunsAContainerInsideTheGuest()
    {
        // stencil_bench=1: /init runs a busybox container once with each runtime in the image,
        // prints "stencil-bench: <runtime> ms: <time>" and powers off instead of starting the agent.
        var (qemu, arguments) = Boot(extraKernelArgs: " stencil_bench=1");

        var result = await ChildProcess.RunAsync(qemu, arguments, BootTimeout);

        var bench = result.Stdout.Split('\n').Where(l => l.Contains("stencil-bench:", StringComparison.Ordinal)).ToList();
        foreach (var line in bench)
            output.WriteLine(line);
        Assert.True(bench.Any(l => l.Contains(" ms: ", StringComparison.Ordinal)) && !bench.Any(l => l.Contains("failed", StringComparison.Ordinal)),
            $"no clean container run; console:\n{result.Stdout}\nqemu stderr:\n{result.Stderr}");
    }

    private static (string Qemu, IReadOnlyList<string> Arguments) Boot(string extraKernelArgs)
    {
        GuestImage.Require();
        var qemu = Prerequisite.Executable("qemu-system-x86_64", "scripts/deps.sh");
        return (qemu, QemuCommandLine.Build(
            GuestImage.Kernel, GuestImage.Initrd, GuestImage.KernelArgs() + extraKernelArgs, Accelerator.KvmAvailable()));
    }
}
