using Stencil.Factory.Internal;

namespace Stencil.Factory.Tests.Unit;

/// <summary>The template folder's bookkeeping, on a plain folder (no tmpfs, no QEMU).</summary>
[Trait("Category", "Unit")]
public sealed class TemplateStoreTests : IDisposable
{
    private const string Fp1 = "0123456789abcdef0123";
    private const string Fp2 = "fedcba9876543210fedc";
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-test-factory-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Template Fake(TemplateStore store, string fp, bool finished = true)
    {
        var dir = store.DirectoryOf(fp);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, Template.MemoryName), new byte[100]);
        File.WriteAllBytes(Path.Combine(dir, Template.StateName), new byte[10]);
        if (finished)
            File.WriteAllText(Path.Combine(dir, Template.MetadataName), "{}");
        return new Template(fp, dir);
    }

    [Fact]
    public void Only_a_folder_with_metadata_state_and_memory_is_a_template()
    {
        var store = new TemplateStore(_root + "/");
        Assert.Equal(_root, store.Root);
        Assert.Equal(_root + ".lock", store.LockPath);
        Fake(store, Fp1, finished: false);
        Assert.Null(store.TryOpen(Fp1));
        Fake(store, Fp2);
        Assert.NotNull(store.TryOpen(Fp2));
        Assert.Equal([Fp2], store.ListTemplates().Select(t => t.Fingerprint));
    }

    [Fact]
    public void Setting_aside_moves_the_folder_frees_the_memory_and_keeps_the_reason()
    {
        var store = new TemplateStore(_root);
        var template = Fake(store, Fp1);
        var inode = FileFacts.Read(template.StateFile)!.Value.Inode;

        Assert.Null(store.SetAside(template, inode + 1, "not the state that failed"));
        Assert.NotNull(store.TryOpen(Fp1));

        var where = store.SetAside(template, inode, "qemu exited with code 1: Not a migration stream");
        Assert.NotNull(where);
        Assert.Null(store.TryOpen(Fp1));
        Assert.False(File.Exists(Path.Combine(where, Template.MemoryName)));
        var entry = Assert.Single(store.ListSetAside());
        Assert.Equal(Fp1, entry.Fingerprint);
        Assert.Equal("qemu exited with code 1: Not a migration stream", entry.Reason);
        Assert.Equal(1, store.SetAsideCount(Fp1));
        Assert.Null(store.SetAside(template, inode, "again"));

        store.ForgetSetAside(Fp1);
        Assert.Empty(store.ListSetAside());
    }

    [Fact]
    public void At_most_four_set_aside_folders_are_kept()
    {
        var store = new TemplateStore(_root);
        for (var i = 0; i < 6; i++)
        {
            var t = Fake(store, Fp1);
            Assert.NotNull(store.SetAside(t, FileFacts.Read(t.StateFile)!.Value.Inode, "reason " + i));
            Thread.Sleep(2);
        }
        var kept = store.ListSetAside();
        Assert.Equal(4, kept.Count);
        Assert.Equal("reason 5", kept[0].Reason);
    }

    [Fact]
    public void Removing_stale_keeps_the_current_template_and_the_set_aside_ones()
    {
        var store = new TemplateStore(_root);
        Fake(store, Fp1);
        Fake(store, Fp2);
        Directory.CreateDirectory(Path.Combine(_root, Fp1 + ".building-123"));
        var broken = Fake(store, "aaaaaaaaaaaaaaaaaaaa");
        store.SetAside(broken, FileFacts.Read(broken.StateFile)!.Value.Inode, "x");

        var removed = store.RemoveStale(Fp1);
        Assert.Equal([Fp1 + ".building-123", Fp2], removed.Order(StringComparer.Ordinal));
        Assert.NotNull(store.TryOpen(Fp1));
        Assert.Single(store.ListSetAside());

        File.WriteAllText(store.HashCacheFile, "[]");
        store.RemoveAll();
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void Clones_served_is_the_length_of_the_served_file()
    {
        var store = new TemplateStore(_root);
        var template = Fake(store, Fp1);
        Assert.Equal(0, template.ClonesServed);
        template.RecordServed();
        template.RecordServed();
        Assert.Equal(2, template.ClonesServed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative/path")]
    [InlineData("/")]
    public void The_template_path_must_be_absolute_and_not_the_root(string path)
    {
        var ex = Assert.Throws<StencilException>(() => new TemplateStore(path));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
    }

    // The named states the factory decides on (TemplateState).

    [Fact]
    public void A_template_is_absent_until_finished_then_ready()
    {
        var store = new TemplateStore(_root);
        Assert.Equal(TemplateState.Absent, store.StateOf(Fp1, TemplateManager.MaxAutomaticRebuilds, out var none));
        Assert.Null(none);
        Fake(store, Fp1, finished: false);
        Assert.Equal(TemplateState.Absent, store.StateOf(Fp1, TemplateManager.MaxAutomaticRebuilds, out _));
        File.WriteAllText(Path.Combine(store.DirectoryOf(Fp1), Template.MetadataName), "{}");
        Assert.Equal(TemplateState.Ready, store.StateOf(Fp1, TemplateManager.MaxAutomaticRebuilds, out var ready));
        Assert.Equal(Fp1, ready!.Fingerprint);
    }

    [Fact]
    public void Failing_the_limit_of_times_sets_a_template_aside_unless_a_finished_one_is_there()
    {
        var store = new TemplateStore(_root);
        store.RecordFailedBuild(Fp1, "qemu exited with code 1");
        Assert.Equal(TemplateState.Absent, store.StateOf(Fp1, 2, out _));
        Thread.Sleep(2); // set-aside folders are named by the millisecond
        store.RecordFailedBuild(Fp1, "qemu exited with code 1");
        Assert.Equal(TemplateState.SetAside, store.StateOf(Fp1, 2, out _));
        Assert.Equal(TemplateState.Absent, store.StateOf(Fp2, 2, out _));

        Fake(store, Fp1);
        Assert.Equal(TemplateState.Ready, store.StateOf(Fp1, 2, out _));
    }

    [Fact]
    public void Folders_are_named_by_state_relative_to_the_current_fingerprint()
    {
        var store = new TemplateStore(_root);
        Fake(store, Fp1);
        Fake(store, Fp2, finished: false);
        Assert.Equal(TemplateState.Absent, store.StateOfFolder(Fp2, Fp2));
        Assert.Equal(TemplateState.Ready, store.StateOfFolder(Fp1, Fp1));
        Assert.Equal(TemplateState.Stale, store.StateOfFolder(Fp2, Fp1));
        Assert.Equal(TemplateState.Building, store.StateOfFolder(Fp1 + ".building-1234", Fp1));
        Assert.Equal(TemplateState.SetAside, store.StateOfFolder($"broken-{Fp1}-1733300000000", Fp1));
        Assert.Null(store.StateOfFolder("lost+found", Fp1));
        Assert.Null(store.StateOfFolder("hashes.json", Fp1));
    }

    [Fact]
    public void Removing_stale_templates_takes_other_fingerprints_and_abandoned_builds_only()
    {
        var store = new TemplateStore(_root);
        Fake(store, Fp1);
        Fake(store, Fp2);
        Directory.CreateDirectory(Path.Combine(_root, Fp1 + ".building-99999"));
        store.RecordFailedBuild(Fp2, "qemu exited with code 1");

        var removed = store.RemoveStale(Fp1);
        Assert.Equal([Fp1 + ".building-99999", Fp2], removed.Order(StringComparer.Ordinal));
        Assert.Equal(TemplateState.Ready, store.StateOf(Fp1, 2, out _));
        Assert.Single(store.ListSetAside());
    }
}
