using System.Diagnostics;
using Stencil.Hypervisor.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Hypervisor.Tests;

/// <summary>QemuVm.ExitReason on real QEMU: what the factory decides a template's fate on.</summary>
[Collection(QemuCollection.Name)]
public sealed class ExitReasonTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_clone_that_does_not_fit_its_template_names_the_reason_qemu_exited()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var description = TestDescriptions.Small();
        var memory = scope.PathOf("memory");
        var state = scope.PathOf("state");
        var template = await scope.StartAsync(description, scope.Template("template", memory));
        await template.PauseAsync();
        await template.SaveAsync(state);
        await template.ShutdownAsync();
        Assert.Null(template.ExitReason);

        var bigger = scope.Create(description with { Memory = description.Memory with { SizeMiB = description.Memory.SizeMiB * 2 } }, scope.Clone("bigger", memory));
        var atStart = await Assert.ThrowsAsync<StencilException>(() => bigger.StartAsync());
        output.WriteLine(atStart.Message);
        Assert.Equal(QemuExitReason.MemorySizeMismatch, bigger.ExitReason);

        var smaller = await scope.StartAsync(description with { Memory = description.Memory with { SizeMiB = description.Memory.SizeMiB / 2 } }, scope.Clone("smaller", memory));
        Assert.Null(smaller.ExitReason);
        var atLoad = await Assert.ThrowsAsync<StencilException>(() => smaller.RestoreAsync(state));
        output.WriteLine(atLoad.Message);
        Assert.Equal(QemuExitReason.MemorySizeMismatch, smaller.ExitReason);

        var missingDevice = await scope.StartAsync(description with { Rng = false }, scope.Clone("no-rng", memory));
        var unknown = await Assert.ThrowsAsync<StencilException>(() => missingDevice.RestoreAsync(state));
        output.WriteLine(unknown.Message);
        Assert.Equal(QemuExitReason.UnknownDeviceSection, missingDevice.ExitReason);
    }

    [Fact]
    public async Task Qemu_stopped_by_stencil_has_no_exit_reason_and_one_that_died_has_one()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var killed = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("killed"));
        await killed.KillAsync();
        Assert.Null(killed.ExitReason);

        var dies = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("dies"));
        Process.GetProcessById(dies.ProcessId!.Value).Kill();
        await dies.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<StencilException>(() => dies.QueryStatusAsync());
        Assert.Equal(QemuExitReason.Other, dies.ExitReason);
    }
}
