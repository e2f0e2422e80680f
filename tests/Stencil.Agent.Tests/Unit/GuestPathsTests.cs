using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class GuestPathsTests
{
    private const string Dir = "/run/stencil/containers/c1";

    [Theory]
    [InlineData("rootfs", "/run/stencil/containers/c1/rootfs")]
    [InlineData("./volumes//data/", "/run/stencil/containers/c1/volumes/data")]
    [InlineData("/run/stencil/containers/c1/rootfs", "/run/stencil/containers/c1/rootfs")]
    public void Inside_accepts_paths_in_the_folder(string path, string expected) =>
        Assert.Equal(expected, GuestPaths.Inside(Dir, path, "mount_point"));

    [Theory]
    [InlineData("../c2/rootfs")]
    [InlineData("rootfs/../../c2")]
    [InlineData("/etc")]
    [InlineData("/run/stencil/containers/c10/rootfs")]
    [InlineData("/run/stencil/containers/c1/../c2")]
    public void Inside_refuses_escapes(string path)
    {
        var ex = Assert.Throws<StencilException>(() => GuestPaths.Inside(Dir, path, "storages[0].mount_point"));
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
        Assert.Contains("storages[0].mount_point", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Inside_can_require_relative_paths()
    {
        var ex = Assert.Throws<StencilException>(() => GuestPaths.Inside("/run/stencil/shared", "/run/stencil/shared/x", "shared_path", allowAbsolute: false));
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
    }

    [Fact]
    public void Empty_path_is_invalid() =>
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<StencilException>(() => GuestPaths.Inside(Dir, "", "mount_point")).Kind);

    [Theory]
    [InlineData("c1")]
    [InlineData("0123456789abcdef")]
    [InlineData("a.b_c-d")]
    public void Good_ids(string id) => GuestPaths.CheckId(id, "container_id");

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("-a")]
    [InlineData("a b")]
    public void Bad_ids(string id)
    {
        var ex = Assert.Throws<StencilException>(() => GuestPaths.CheckId(id, "container_id"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("container_id", ex.Message);
    }

    [Fact]
    public void RealPathInside_follows_symlinks_out_and_refuses()
    {
        var root = Directory.CreateTempSubdirectory("stencil-test-agent-paths-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "share", "ok"));
            File.CreateSymbolicLink(Path.Combine(root, "share", "escape"), "/etc");
            Assert.Equal(Path.Combine(root, "share", "ok"), GuestPaths.RealPathInside(Path.Combine(root, "share", "ok"), "f", Path.Combine(root, "share")));
            var ex = Assert.Throws<StencilException>(() => GuestPaths.RealPathInside(Path.Combine(root, "share", "escape"), "storages[0].shared_path", Path.Combine(root, "share")));
            Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
            Assert.Contains("resolves to \"/etc\"", ex.Message);
            Assert.Equal(ErrorKind.NotFound,
                Assert.Throws<StencilException>(() => GuestPaths.RealPathInside(Path.Combine(root, "share", "missing"), "f", root)).Kind);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
