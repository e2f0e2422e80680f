using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class EphemeralVolumesTests
{
    [Theory]
    [InlineData("shm")]
    [InlineData("emptydir-scratch")]
    [InlineData("a.b_c-1")]
    public void Names_of_one_path_component_are_accepted(string name) => EphemeralVolumes.CheckName(name, "storages[0].ephemeral");

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("-x")]
    [InlineData("sp ace")]
    public void Other_names_are_refused(string name)
    {
        var e = Assert.Throws<StencilException>(() => EphemeralVolumes.CheckName(name, "storages[0].ephemeral"));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith($"storages[0].ephemeral \"{name}\" is not a tmpfs name", e.Message);
    }

    [Fact]
    public void A_name_is_mounted_once_with_the_first_options_and_unmounted_with_the_sandbox()
    {
        var root = Directory.CreateTempSubdirectory("stencil-test-ephemeral-").FullName;
        var volumes = new EphemeralVolumes(root);
        try
        {
            var first = volumes.Ensure("shm", ["size=1m", "mode=1770", "nosuid", "nodev"], "storages[0].ephemeral");
            var again = volumes.Ensure("shm", ["size=8m"], "storages[1].ephemeral");

            Assert.Equal(Path.Combine(root, "shm"), first);
            Assert.Equal(first, again);
            var mounts = File.ReadAllLines("/proc/self/mounts").Where(l => l.Split(' ')[1] == first).ToList();
            var line = Assert.Single(mounts).Split(' ');
            Assert.Equal("tmpfs", line[2]);
            Assert.Contains("size=1024k", line[3].Split(','));
            Assert.Contains("mode=1770", line[3].Split(','));
            Assert.Contains("nosuid", line[3].Split(','));
        }
        finally
        {
            volumes.UnmountAll();
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mounts"), l => l.Split(' ')[1].StartsWith(root, StringComparison.Ordinal));
            Directory.Delete(root, recursive: true);
        }
    }
}
