using Stencil.Oci;

namespace Stencil.Oci.Tests;

[Trait("Category", "Unit")]
public sealed class BundleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-bundle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Loads_a_valid_bundle_and_resolves_the_rootfs()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), SpecSamples.Ctr);
        Directory.CreateDirectory(Path.Combine(_dir, "rootfs"));
        var bundle = Bundle.Load(_dir);
        Assert.Equal(Path.Combine(_dir, "rootfs"), bundle.RootfsPath);
        bundle.EnsureRootfsExists();
    }

    [Fact]
    public void Missing_config_is_not_found_naming_the_bundle()
    {
        var ex = Assert.Throws<StencilException>(() => Bundle.Load(_dir));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal($"bundle {_dir} has no config.json", ex.Message);
    }

    [Fact]
    public void Missing_rootfs_is_not_found_naming_the_path()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), SpecSamples.Ctr);
        var ex = Assert.Throws<StencilException>(() => Bundle.Load(_dir).EnsureRootfsExists());
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Contains($"rootfs {_dir}/rootfs", ex.Message);
    }

    [Fact]
    public void Malformed_config_names_the_file()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{\"ociVersion\": ");
        var ex = Assert.Throws<StencilException>(() => Bundle.Load(_dir));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith($"{_dir}/config.json: not a valid runtime spec", ex.Message);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("")]
    public void A_relative_bundle_path_is_refused(string path)
    {
        var ex = Assert.Throws<StencilException>(() => Bundle.Load(path));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void Cri_annotations_group_containers_by_pod()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), SpecSamples.Ctr);
        var spec = Bundle.Load(_dir).Spec;
        Assert.False(CriAnnotations.IsSandbox(spec));
        Assert.Equal("pod1", CriAnnotations.PodId(spec, "c1"));
        spec.Annotations = null;
        Assert.True(CriAnnotations.IsSandbox(spec));
        Assert.Equal("c1", CriAnnotations.PodId(spec, "c1"));
    }
}
