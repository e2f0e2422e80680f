using Stencil.Factory.Tests.Support;
using Stencil.TestSupport;
using Stencil.Factory.Internal;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Vm;

/// <summary>
/// A template's fate: rebuilt when an input changes, set aside when it fails to restore, destroyed
/// under running clones. Each test works on a copy of the run's template in a template path of its
/// own, so the shared one stays intact.
/// </summary>
[Collection(TemplateCollection.Name)]
public sealed class TemplateLifecycleTests(TemplateFixture fixture, ITestOutputHelper output)
{
    /// <summary>A factory over its own template path holding a copy of the run's template.</summary>
    private async Task<(VmFactory Factory, TestLog Log, string Root)> PrivateCopyAsync(string name, Func<VmFactoryOptions, VmFactoryOptions>? change = null)
    {
        var root = Path.Combine(fixture.Root, name + "-template");
        var log = new TestLog();
        var options = fixture.Options with { TemplatePath = root };
        var factory = new VmFactory(change is null ? options : change(options), log);
        factory.Store.Tmpfs.EnsureMounted(options.TemplateTmpfsBytes);
        Scratch.CopyTemplate(fixture.Template.Directory, root);
        Assert.Equal(fixture.Template.Fingerprint, (await factory.GetStatusAsync()).Templates.Single().Fingerprint);
        return (factory, log, root);
    }

    [Fact]
    public async Task A_changed_initrd_rebuilds_the_template_and_removes_the_stale_one()
    {
        var initrd = Path.Combine(fixture.Root, "initrd-copy");
        File.Copy(GuestImage.Initrd, initrd);
        var (factory, log, root) = await PrivateCopyAsync("rebuild",
            o => o with { Description = FactoryTestVm.Description(initrd: initrd) });
        try
        {
            // Same bytes at another path: the same template.
            Assert.Equal(fixture.Template.Fingerprint, await factory.GetFingerprintAsync());
            // Touched (mtime only): hashed again, same bytes, same template.
            File.SetLastWriteTimeUtc(initrd, DateTime.UtcNow.AddMinutes(1));
            var touched = await factory.EnsureTemplateAsync();
            Assert.False(touched.Built);
            Assert.Equal(fixture.Template.Fingerprint, touched.Template.Fingerprint);

            // Changed bytes (zero padding, which the kernel skips between initramfs archives): a new template.
            await using (var stream = new FileStream(initrd, FileMode.Append))
                stream.Write(new byte[4096]);
            var changed = await factory.EnsureTemplateAsync();
            output.WriteLine(log.Text);
            Assert.True(changed.Built);
            Assert.NotEqual(fixture.Template.Fingerprint, changed.Template.Fingerprint);
            Assert.Equal([fixture.Template.Fingerprint], changed.Removed);
            Assert.False(Directory.Exists(Path.Combine(root, fixture.Template.Fingerprint)));
            Assert.Single((await factory.GetStatusAsync()).Templates);

            var request = fixture.Request("rebuilt-clone");
            await using (var vm = await factory.StartVmAsync(request))
            {
                Assert.Equal(VmOrigin.TemplateClone, vm.Origin);
                Assert.Equal(changed.Template.Fingerprint, vm.TemplateFingerprint);
                Assert.True(await vm.Agent.CheckAsync());
            }
        }
        finally
        {
            await factory.DestroyAsync();
            await factory.DisposeAsync();
            File.Delete(initrd);
            Scratch.Remove(fixture.Root, "rebuilt-clone");
        }
        Assert.False(Directory.Exists(root));
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task Other_memory_sizes_and_command_lines_give_other_fingerprints()
    {
        var options = fixture.Options with { TemplatePath = Path.Combine(fixture.Root, "fingerprints") };
        await using var bigger = new VmFactory(options with { Description = FactoryTestVm.Description(memoryMiB: 320) }, NullLog.Instance);
        var kernel = fixture.Options.Description.Kernel!;
        await using var otherArgs = new VmFactory(options with
        {
            Description = fixture.Options.Description with { Kernel = kernel with { CommandLine = kernel.CommandLine + " loglevel=3" } },
        }, NullLog.Instance);
        var fingerprints = new[] { fixture.Template.Fingerprint, await bigger.GetFingerprintAsync(), await otherArgs.GetFingerprintAsync() };
        Assert.Equal(3, fingerprints.Distinct().Count());
        Assert.False(Directory.Exists(options.TemplatePath));
    }

    [Fact]
    public async Task A_corrupt_state_file_is_set_aside_with_qemus_message_and_the_vm_is_cold_booted()
    {
        var (factory, log, root) = await PrivateCopyAsync("corrupt");
        try
        {
            var state = Path.Combine(root, fixture.Template.Fingerprint, "state");
            var bytes = await File.ReadAllBytesAsync(state);
            Array.Fill(bytes, (byte)0x5a, 0, 64);
            await File.WriteAllBytesAsync(state, bytes);

            var request = fixture.Request("corrupt-vm");
            await using (var vm = await factory.StartVmAsync(request))
            {
                output.WriteLine(log.Text);
                output.WriteLine($"fallback: {vm.FallbackReason}");
                Assert.Equal(VmOrigin.ColdBoot, vm.Origin);
                Assert.True(await vm.Agent.CheckAsync());
                Assert.NotNull(vm.FallbackReason);
                Assert.Contains("qemu exited with code 1", vm.FallbackReason);
                Assert.Contains("set aside", vm.FallbackReason);
            }

            var status = await factory.GetStatusAsync();
            Assert.Empty(status.Templates);
            var setAside = Assert.Single(status.SetAside);
            Assert.Equal(fixture.Template.Fingerprint, setAside.Fingerprint);
            Assert.Contains("qemu exited with code 1", setAside.Reason);
            // QEMU's own words about the stream, not only ours.
            Assert.Matches("(?i)migration|stream|load", setAside.Reason);
            Assert.False(File.Exists(Path.Combine(setAside.Directory, "memory")));
            Assert.Contains(log.Lines, l => l.StartsWith("warning: template", StringComparison.Ordinal) && l.Contains("set aside", StringComparison.Ordinal));
            Assert.Contains(log.Lines, l => l.StartsWith("warning: corrupt-vm: cold booting", StringComparison.Ordinal));
        }
        finally
        {
            await factory.DestroyAsync();
            await factory.DisposeAsync();
            Scratch.Remove(fixture.Root, "corrupt-vm");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task Destroy_while_a_clone_runs_leaves_the_clone_running()
    {
        var (factory, _, root) = await PrivateCopyAsync("destroy");
        var request = fixture.Request("survivor");
        try
        {
            await using var vm = await factory.StartVmAsync(request);
            Assert.Equal(VmOrigin.TemplateClone, vm.Origin);

            var destroyed = await factory.DestroyAsync();
            Assert.Equal(1, destroyed.TemplatesRemoved);
            Assert.True(destroyed.Unmounted);
            Assert.False(Directory.Exists(root));
            Assert.Empty(LeakCheck.MountsUnder(root));

            // The clone still runs on its mapping of the unlinked memory file, and its guest still works.
            Assert.Equal(Hypervisor.VmState.Running, vm.Qemu.State);
            var shell = await GuestShell.OpenAsync(vm, request.SharedDirectory!);
            var (stdout, exit) = await shell.RunAsync("echo alive");
            Assert.Equal((0, "alive\n"), (exit, stdout));
            Assert.False(vm.Exited.IsCompleted);
        }
        finally
        {
            await factory.DisposeAsync();
            Scratch.Remove(fixture.Root, "survivor");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task A_template_that_fails_to_build_twice_is_not_rebuilt_automatically()
    {
        var kernel = Path.Combine(fixture.Root, "not-a-kernel");
        await File.WriteAllTextAsync(kernel, "this is not a kernel\n");
        var root = Path.Combine(fixture.Root, "failing-template");
        var description = FactoryTestVm.Description();
        var factory = new VmFactory(fixture.Options with
        {
            TemplatePath = root,
            Description = description with { Kernel = description.Kernel! with { KernelPath = kernel } },
        }, NullLog.Instance);
        var request = fixture.Request("failing");
        try
        {
            for (var i = 0; i < VmFactory.MaxAutomaticRebuilds; i++)
            {
                var failed = await Assert.ThrowsAsync<StencilException>(() => factory.CloneAsync(request));
                output.WriteLine(failed.Message);
                Assert.Contains("building template", failed.Message);
                Assert.Contains("qemu exited with code 1", failed.Message);
            }
            var givenUp = await Assert.ThrowsAsync<StencilException>(() => factory.CloneAsync(request));
            output.WriteLine(givenUp.Message);
            Assert.Equal(ErrorKind.FailedPrecondition, givenUp.Kind);
            Assert.Contains($"failed {VmFactory.MaxAutomaticRebuilds} times", givenUp.Message);
            Assert.Contains("stencil factory init", givenUp.Message);
            Assert.Equal(VmFactory.MaxAutomaticRebuilds, (await factory.GetStatusAsync()).SetAside.Count);

            // `stencil factory init` still tries.
            var explicitly = await Assert.ThrowsAsync<StencilException>(() => factory.EnsureTemplateAsync());
            Assert.Contains("building template", explicitly.Message);
        }
        finally
        {
            await factory.DestroyAsync();
            await factory.DisposeAsync();
            Scratch.Remove(fixture.Root, "failing");
            File.Delete(kernel);
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    /// <summary>
    /// The template tmpfs without room (issue 15's "template tmpfs full while building"): refused before QEMU
    /// starts when the figures say it cannot fit; filled by something else while the template boots, the
    /// build fails naming the full tmpfs. Either way no QEMU, socket or half-built template is left.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_full_template_tmpfs_fails_the_build_with_the_reason_and_leaves_nothing(bool fillWhileBuilding)
    {
        var root = Path.Combine(fixture.Root, fillWhileBuilding ? "filled-template" : "full-template");
        var options = fixture.Options with { TemplatePath = root };
        var factory = new VmFactory(options, NullLog.Instance);
        factory.Store.Tmpfs.EnsureMounted(options.TemplateTmpfsBytes);
        var filler = Path.Combine(root, "filler");
        try
        {
            StencilException failed;
            if (!fillWhileBuilding)
            {
                // Leave less than the memory file needs.
                Fill(filler, leaveBytes: 100L << 20);
                failed = await Assert.ThrowsAsync<StencilException>(() => factory.EnsureTemplateAsync());
                Assert.Equal(ErrorKind.FailedPrecondition, failed.Kind);
                Assert.Contains("MiB free and a template of", failed.Message);
                Assert.Empty(LeakCheck.QemuProcesses(root));
            }
            else
            {
                var build = factory.EnsureTemplateAsync();
                // Once QEMU has made the guest's memory file, everything left goes to the filler.
                await WaitForAsync(() => Directory.EnumerateFiles(root, Template.MemoryName, SearchOption.AllDirectories).Any() || build.IsCompleted);
                Fill(filler, leaveBytes: 0);
                failed = await Assert.ThrowsAsync<StencilException>(() => build);
                output.WriteLine(failed.Message);
                Assert.Contains("is full", failed.Message);
            }
            output.WriteLine(failed.Message);
            Assert.Contains(root, failed.Message);
            // No half-built template: no guest memory file, no socket (the factory's own records of the failure stay).
            Assert.Empty(Directory.EnumerateFiles(root, Template.MemoryName, SearchOption.AllDirectories));
            Assert.Empty(LeakCheck.SocketsUnder(root));
        }
        finally
        {
            File.Delete(filler);
            await factory.DestroyAsync();
            await factory.DisposeAsync();
        }
        Assert.False(Directory.Exists(root));
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    /// <summary>Writes zeros to <paramref name="path"/> until the file system has <paramref name="leaveBytes"/> left (or none).</summary>
    private static void Fill(string path, long leaveBytes)
    {
        var chunk = new byte[1 << 20];
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (new DriveInfo(Path.GetDirectoryName(path)!).AvailableFreeSpace > leaveBytes + chunk.Length)
                stream.Write(chunk);
            if (leaveBytes == 0)
            {
                while (true)
                    stream.Write(chunk, 0, 4096);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition() && DateTime.UtcNow < deadline)
            await Task.Delay(10);
    }
}
