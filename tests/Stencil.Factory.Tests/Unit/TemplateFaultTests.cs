using Stencil.Factory.Internal;
using Stencil.Hypervisor;

namespace Stencil.Factory.Tests.Unit;

/// <summary>When a clone's failure is its template's (and the template is set aside): decided on QEMU's typed exit reason.</summary>
[Trait("Category", "Unit")]
public sealed class TemplateFaultTests
{
    private static StencilException Error(ErrorKind kind) => new(kind, "whatever the words");

    [Theory]
    [InlineData(QemuExitReason.MemorySizeMismatch)]
    [InlineData(QemuExitReason.MemoryFileUnusable)]
    public void At_start_qemu_exiting_over_the_memory_file_is_the_templates_fault(QemuExitReason reason) =>
        Assert.True(TemplateCloner.IsTemplateFault(Error(ErrorKind.Unavailable), restoring: false, reason));

    [Theory]
    [InlineData(QemuExitReason.Other)]
    [InlineData(QemuExitReason.UnknownDeviceSection)]
    [InlineData(null)]
    public void At_start_any_other_exit_is_the_clones_own(QemuExitReason? reason) =>
        Assert.False(TemplateCloner.IsTemplateFault(Error(ErrorKind.Unavailable), restoring: false, reason));

    [Fact]
    public void At_start_a_failure_that_is_not_qemus_exit_is_the_clones_own() =>
        Assert.False(TemplateCloner.IsTemplateFault(Error(ErrorKind.DeadlineExceeded), restoring: false, QemuExitReason.MemorySizeMismatch));

    [Theory]
    [InlineData(ErrorKind.Unavailable, QemuExitReason.UnknownDeviceSection)]
    [InlineData(ErrorKind.Unavailable, QemuExitReason.StateLoadFailed)]
    [InlineData(ErrorKind.Unavailable, null)]
    [InlineData(ErrorKind.Internal, null)]
    public void While_the_state_loads_qemu_or_the_migration_failing_is_the_templates_fault(ErrorKind kind, QemuExitReason? reason) =>
        Assert.True(TemplateCloner.IsTemplateFault(Error(kind), restoring: true, reason));

    [Theory]
    [InlineData(ErrorKind.NotFound)]
    [InlineData(ErrorKind.DeadlineExceeded)]
    [InlineData(ErrorKind.Cancelled)]
    public void While_the_state_loads_other_failures_are_the_clones_own(ErrorKind kind) =>
        Assert.False(TemplateCloner.IsTemplateFault(Error(kind), restoring: true, null));
}
