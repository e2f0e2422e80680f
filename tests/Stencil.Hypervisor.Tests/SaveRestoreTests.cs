using System.Diagnostics;
using Stencil.Hypervisor.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Hypervisor.Tests;

/// <summary>Template save and clone restore with x-ignore-shared, on real QEMU (TCG, no guest).</summary>
[Collection(QemuCollection.Name)]
public sealed class SaveRestoreTests(ITestOutputHelper output)
{
    /// <summary>Builds a template from <paramref name="description"/>, saves it, quits it; returns (memory file, state file).</summary>
    private async Task<(string Memory, string State)> SaveTemplateAsync(QemuScope scope, VmDescription description)
    {
        var memory = scope.PathOf("memory");
        var state = scope.PathOf("state");
        var template = await scope.StartAsync(description, scope.Template("template", memory));
        await template.PauseAsync();
        var stopwatch = Stopwatch.StartNew();
        await template.SaveAsync(state);
        output.WriteLine($"save (x-ignore-shared, fd migration): {stopwatch.ElapsedMilliseconds} ms, state file {new FileInfo(state).Length} bytes");
        Assert.Equal(VmState.Saved, template.State);
        Assert.Equal("postmigrate", await template.QueryStatusAsync());
        await template.ShutdownAsync();
        return (memory, state);
    }

    [Fact]
    public async Task A_clone_restores_paused_from_the_template_state_then_runs()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var description = TestDescriptions.Small();
        var (memory, state) = await SaveTemplateAsync(scope, description);

        var stopwatch = Stopwatch.StartNew();
        var clone = await scope.StartAsync(description, scope.Clone("clone", memory));
        var started = stopwatch.ElapsedMilliseconds;
        Assert.Equal(VmState.Incoming, clone.State);
        Assert.Equal("inmigrate", await clone.QueryStatusAsync());

        var restoreWatch = Stopwatch.StartNew();
        await clone.RestoreAsync(state);
        var restored = restoreWatch.ElapsedMilliseconds;
        Assert.Equal(VmState.Paused, clone.State);
        Assert.Equal("paused", await clone.QueryStatusAsync());

        await clone.ResumeAsync();
        output.WriteLine($"clone: QEMU start to QMP ready {started} ms, restore {restored} ms, start+restore+cont {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal(VmState.Running, clone.State);
        Assert.Equal("running", await clone.QueryStatusAsync());

        // The clone's agent port and hotplug root ports work after the restore.
        Assert.True(File.Exists(clone.Instance.Paths.AgentSocket));
        var disk = scope.PathOf("disk.img");
        await File.WriteAllBytesAsync(disk, new byte[1024 * 1024]);
        var added = await clone.AddDiskAsync(new DiskSpec(disk));
        Assert.Equal("rp0", added.RootPort);
    }

    [Fact]
    public async Task A_saved_template_refuses_to_run_on()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var template = await scope.StartAsync(TestDescriptions.Small(), scope.Template("template", scope.PathOf("memory")));
        await template.PauseAsync();
        await template.SaveAsync(scope.PathOf("state"));

        var ex = await Assert.ThrowsAsync<StencilException>(() => template.ResumeAsync());
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Equal("cannot resume vm template in saved state", ex.Message);
    }

    [Fact]
    public async Task A_clone_with_more_memory_than_the_template_fails_with_qemus_reason()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var description = TestDescriptions.Small();
        var (memory, _) = await SaveTemplateAsync(scope, description);

        var bigger = description with { Memory = description.Memory with { SizeMiB = description.Memory.SizeMiB * 2 } };
        var clone = scope.Create(bigger, scope.Clone("clone", memory));
        var ex = await Assert.ThrowsAsync<StencilException>(() => clone.StartAsync());
        output.WriteLine(ex.Message);
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Contains("qemu exited with code 1", ex.Message);
        Assert.Contains("does not match 'size' option", ex.Message);
        Assert.Equal(VmState.Stopped, clone.State);
    }

    [Fact]
    public async Task A_clone_with_less_memory_fails_during_restore_with_qemus_reason()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var description = TestDescriptions.Small();
        var (memory, state) = await SaveTemplateAsync(scope, description);

        var smaller = description with { Memory = description.Memory with { SizeMiB = description.Memory.SizeMiB / 2 } };
        var clone = await scope.StartAsync(smaller, scope.Clone("clone", memory));
        var ex = await Assert.ThrowsAsync<StencilException>(() => clone.RestoreAsync(state));
        output.WriteLine(ex.Message);
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.StartsWith($"restoring vm clone from {state} failed: qemu exited with code 1:", ex.Message);
        Assert.Contains("mismatch", ex.Message);
        Assert.Equal(VmState.Stopped, clone.State);
    }

    [Fact]
    public async Task A_clone_missing_a_device_fails_during_restore()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var description = TestDescriptions.Small();
        var (memory, state) = await SaveTemplateAsync(scope, description);

        var clone = await scope.StartAsync(description with { Rng = false }, scope.Clone("clone", memory));
        var ex = await Assert.ThrowsAsync<StencilException>(() => clone.RestoreAsync(state));
        output.WriteLine(ex.Message);
        Assert.Contains("Unknown savevm section", ex.Message);
    }

    [Fact]
    public async Task Restoring_a_missing_state_file_is_not_found_and_leaves_the_clone_waiting()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var clone = await scope.StartAsync(TestDescriptions.Small(), scope.Clone("clone", scope.SparseMemoryFile("memory", 128)));
        var ex = await Assert.ThrowsAsync<StencilException>(() => clone.RestoreAsync(scope.PathOf("no-state")));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal($"cannot open state file {scope.PathOf("no-state")}: it does not exist", ex.Message);
        Assert.Equal(VmState.Incoming, clone.State);
        Assert.Equal("inmigrate", await clone.QueryStatusAsync());
    }

    [Fact]
    public async Task A_template_refuses_an_existing_memory_file_and_a_clone_a_missing_one()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var stale = scope.SparseMemoryFile("memory", 128);

        var template = scope.Create(TestDescriptions.Small(), scope.Template("template", stale));
        var exists = await Assert.ThrowsAsync<StencilException>(() => template.StartAsync());
        Assert.Equal(ErrorKind.AlreadyExists, exists.Kind);
        Assert.Contains(stale, exists.Message);
        Assert.Null(template.ProcessId);

        var clone = scope.Create(TestDescriptions.Small(), scope.Clone("clone", scope.PathOf("missing")));
        var missing = await Assert.ThrowsAsync<StencilException>(() => clone.StartAsync());
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public async Task Saving_into_a_missing_folder_is_not_found_and_the_template_stays_paused()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var template = await scope.StartAsync(TestDescriptions.Small(), scope.Template("template", scope.PathOf("memory")));
        await template.PauseAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => template.SaveAsync(scope.PathOf("no-dir/state")));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal(VmState.Paused, template.State);
        await template.SaveAsync(scope.PathOf("state"));
        Assert.Equal(VmState.Saved, template.State);
    }
}
