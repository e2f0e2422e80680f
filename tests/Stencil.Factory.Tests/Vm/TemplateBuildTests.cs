using Stencil.Factory.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Vm;

/// <summary>What the run's first use of the factory produced (see <see cref="TemplateFixture"/>).</summary>
[Collection(TemplateCollection.Name)]
public sealed class TemplateBuildTests(TemplateFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_factories_at_once_on_an_empty_folder_build_the_template_once()
    {
        output.WriteLine($"first use by 3 factories: {fixture.FirstUseTime.TotalSeconds:F2} s\n{fixture.Log.Text}");
        Assert.Equal(1, fixture.BuildsOnFirstUse);
        Assert.Single(fixture.FirstUse, r => r.Built);
        Assert.Single(fixture.FirstUse.Select(r => r.Template.Fingerprint).Distinct());
        Assert.Equal(await fixture.Factory.GetFingerprintAsync(), fixture.Template.Fingerprint);
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task The_template_lives_in_a_private_tmpfs_with_memory_state_and_metadata()
    {
        var status = await fixture.Factory.GetStatusAsync();
        Assert.True(status.TmpfsMounted);
        Assert.True(status.MountedByStencil);
        var mount = File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')).Single(f => f[1] == fixture.TemplatePath);
        Assert.Equal("tmpfs", mount[2]);
        Assert.Contains("nosuid", mount[3].Split(','));
        Assert.Contains("nodev", mount[3].Split(','));
        Assert.Contains("mode=700", mount[3].Split(','));

        var template = Assert.Single(status.Templates);
        Assert.True(template.IsCurrent);
        Assert.Equal(status.CurrentFingerprint, template.Fingerprint);
        Assert.Equal(256L << 20, template.MemoryFileBytes);
        Assert.InRange(template.MemoryFileAllocatedBytes, 1L << 20, 256L << 20);
        Assert.InRange(template.StateFileBytes, 1L << 10, 16L << 20);
        Assert.Contains("memory-backend-file", template.FingerprintText);
        Assert.Equal(["console.log", "memory", "metadata.json", "state"],
            Directory.EnumerateFiles(template.Directory).Select(Path.GetFileName).Where(n => n != "served").Order());
        output.WriteLine($"template {template.Fingerprint}: build {template.BuildTime.TotalSeconds:F2} s, memory {template.MemoryFileBytes >> 20} MiB " +
            $"({template.MemoryFileAllocatedBytes >> 20} MiB allocated), state {template.StateFileBytes >> 10} KiB");
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
