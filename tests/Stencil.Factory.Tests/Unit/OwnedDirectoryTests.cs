using Stencil.Factory.Tests.Support;

namespace Stencil.Factory.Tests.Unit;

/// <summary>A pooled clone's folder goes with what its guest left in the 9p export, and nothing that a
/// link there names outside it.</summary>
[Trait("Category", "Unit")]
public sealed class OwnedDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-test-factory-owned-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_export_is_removed_by_fds_and_links_in_it_are_not_followed()
    {
        var outside = Directory.CreateDirectory(Path.Combine(_root, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret"), "host secret");
        var clone = Directory.CreateDirectory(Path.Combine(_root, "pool", "abcd")).FullName;
        var export = Directory.CreateDirectory(Path.Combine(clone, "shared")).FullName;
        File.WriteAllText(Path.Combine(clone, "qemu.pid"), "1\n");
        Directory.CreateSymbolicLink(Path.Combine(export, "root"), "/");
        Directory.CreateSymbolicLink(Path.Combine(export, "outside"), outside);
        Directory.CreateDirectory(Path.Combine(export, "c1", "rootfs"));
        File.CreateSymbolicLink(Path.Combine(export, "c1", "rootfs", "up"), "../../../../outside/secret");
        var log = new TestLog();

        FactoryVm.RemoveOwnedDirectory(clone, export, log);

        Assert.False(Directory.Exists(clone), string.Join("\n", log.Lines));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(outside, "secret")));
    }
}
