using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>What the initrd holds, checked against the recipe and the published agent.</summary>
public sealed class GuestImageTests
{
    [Fact]
    public async Task TheInitrdHoldsInitBusyboxTheRuntimeAndTheDynamicLoader()
    {
        GuestImage.Require();

        var paths = await InitrdArchive.ListAsync(GuestImage.Initrd);

        Assert.Contains("init", paths);
        Assert.Contains("bin/busybox", paths);
        Assert.Contains("bin/sh", paths);
        Assert.Contains("usr/bin/oci-runtime", paths);
        Assert.Contains("lib64/ld-linux-x86-64.so.2", paths);
        Assert.Contains("etc/passwd", paths);
        Assert.Contains("etc/group", paths);
        Assert.Contains("etc/resolv.conf", paths);
        Assert.Contains("etc/modules.order", paths);
    }

    [Fact]
    public async Task TheInitrdCarriesTheAgentThatWasPublished()
    {
        GuestImage.Require();
        Stencil.TestSupport.Prerequisite.File(GuestImage.Agent, "make publish");

        Assert.Contains("sbin/stencil-agent", await InitrdArchive.ListAsync(GuestImage.Initrd));
        var inImage = await InitrdArchive.Sha256Async(GuestImage.Initrd, "sbin/stencil-agent");

        var published = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(GuestImage.Agent)));
        Assert.True(inImage == published, $"sbin/stencil-agent in the initrd ({inImage}) is not {GuestImage.Agent} ({published}): run `make guest`");
    }

    [Fact]
    public async Task EveryModuleOfTheRecipeIsInTheInitrdWithItsDependencies()
    {
        GuestImage.Require();
        var paths = await InitrdArchive.ListAsync(GuestImage.Initrd);
        // modprobe treats - and _ in module names alike; file names use either.
        static string Name(string path) => Path.GetFileNameWithoutExtension(path).Replace('-', '_');
        var modules = paths.Where(p => p.EndsWith(".ko", StringComparison.Ordinal)).Select(Name).ToHashSet();

        var wanted = File.ReadLines(Path.Combine(GuestImage.RecipeDir, "modules"))
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.Length > 0)
            .Select(l => l.Replace('-', '_'));

        Assert.All(wanted, m => Assert.Contains(m, modules));
        Assert.Contains("jbd2", modules);      // a dependency of ext4, not named in the recipe
        Assert.Contains("9pnet", modules);     // a dependency of 9p and 9pnet_virtio
    }
    [Fact]
    public async Task ModulesLoadedOnDemandAreCompressedWithTheIndexesBusyboxModprobeReads()
    {
        GuestImage.Require();
        var paths = await InitrdArchive.ListAsync(GuestImage.Initrd);
        static string Name(string path) => Path.GetFileName(path)[..^".ko.xz".Length].Replace('-', '_');
        var compressed = paths.Where(p => p.EndsWith(".ko.xz", StringComparison.Ordinal)).Select(Name).ToHashSet();

        var wanted = File.ReadLines(Path.Combine(GuestImage.RecipeDir, "modules-on-demand"))
            .SelectMany(l => l.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(l => l.Replace('-', '_'));
        var boot = paths.Where(p => p.EndsWith(".ko", StringComparison.Ordinal)).Select(p => Path.GetFileNameWithoutExtension(p).Replace('-', '_')).ToHashSet();

        Assert.All(wanted, m => Assert.True(compressed.Contains(m) || boot.Contains(m), $"{m} is neither on demand nor loaded at boot"));
        Assert.Contains("stp", compressed); // a dependency of bridge, not named in the recipe
        var folder = Assert.Single(paths, p => p.StartsWith("lib/modules/", StringComparison.Ordinal) && p.Count(c => c == '/') == 2);
        foreach (var index in new[] { "modules.dep", "modules.alias", "modules.devname", "modules.builtin" })
            Assert.Contains($"{folder}/{index}", paths);
        Assert.DoesNotContain(paths, p => p.EndsWith(".bin", StringComparison.Ordinal)); // kmod's indexes: busybox reads the text files
        Assert.Contains("sbin/modprobe", paths); // the kernel's request_module runs it
    }
}
