namespace Stencil.Guest.Tests;

/// <summary>The guest image booted in a real QEMU (TCG here, KVM where /dev/kvm opens).</summary>
public sealed class GuestBootTests(ITestOutputHelper output)
{
    // A cold boot takes ~2 s under TCG on an idle machine; the margin is for a busy shared one.
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BootsToTheReadyMarkerWithEveryModuleLoaded()
    {
        GuestImage.RequireBuilt();
        await using var vm = GuestVm.Start(QemuCommandLine.Build(
            GuestImage.Kernel, GuestImage.Initrd, GuestImage.KernelArgs(), Accelerator.KvmAvailable()));

        var ready = await vm.WaitForLineAsync("stencil-init: ready in ", BootTimeout);

        output.WriteLine($"ready {ready.At.TotalSeconds:F2} s after QEMU started: {ready.Text}");
        var lines = vm.Lines;
        Assert.Contains(lines, l => l.Text.Contains("stencil-init: modules ok", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains("stencil-init: modules failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheOciRuntimeRunsAContainerInsideTheGuest()
    {
        // stencil_bench=1: /init runs a busybox container once with each runtime in the image,
        // prints "stencil-bench: <runtime> ms: <time>" and powers off instead of starting the agent.
        GuestImage.RequireBuilt();
        await using var vm = GuestVm.Start(QemuCommandLine.Build(
            GuestImage.Kernel, GuestImage.Initrd, GuestImage.KernelArgs() + " stencil_bench=1", Accelerator.KvmAvailable()));

        await vm.WaitForExitAsync(BootTimeout);

        var bench = vm.Lines.Where(l => l.Text.Contains("stencil-bench:", StringComparison.Ordinal)).ToList();
        foreach (var line in bench)
            output.WriteLine(line.Text);
        Assert.Contains(bench, l => l.Text.Contains(" ms: ", StringComparison.Ordinal));
        Assert.DoesNotContain(bench, l => l.Text.Contains("failed", StringComparison.Ordinal));
    }
}
