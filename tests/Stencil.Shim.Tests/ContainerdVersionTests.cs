using Stencil.Containerd;
using Stencil.Shim.Start;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public class ContainerdVersionTests
{
    [Theory]
    [InlineData("v2.1.9", 2, 1, 9)]
    [InlineData("2.1.9+unknown", 2, 1, 9)]
    [InlineData("1.6.20~ds1", 1, 6, 20)]
    [InlineData("1.7.24~ds1", 1, 7, 24)]
    [InlineData("v1.7.0-beta.3", 1, 7, 0)]
    public void Versions_as_containerd_names_them_are_read(string text, int major, int minor, int patch)
    {
        var v = ContainerdVersion.TryParse(text);
        Assert.NotNull(v);
        Assert.Equal((major, minor, patch), (v.Major, v.Minor, v.Patch));
        Assert.Equal(text, v.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("devel")]
    [InlineData("1.7")]
    public void Text_without_three_numbers_is_no_version(string text) => Assert.Null(ContainerdVersion.TryParse(text));

    [Theory]
    [InlineData("containerd github.com/containerd/containerd/v2 2.1.9+unknown \n", "2.1.9")]
    [InlineData("containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1\n", "1.7.24")]
    [InlineData("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1\n", "1.6.20")]
    public void The_version_command_names_the_version_third(string output, string expected) =>
        Assert.Equal(expected, ContainerdVersion.FromVersionCommand(output)?.ToString());

    [Theory]
    [InlineData("1.5.18", "unsupported")]
    [InlineData("1.6.20", "supported")]
    [InlineData("1.7.24", "supported")]
    [InlineData("2.0.5", "supported")]
    [InlineData("2.1.9", "supported")]
    [InlineData("2.2.0", "untested")]
    [InlineData("3.0.0", "untested")]
    public void Support_by_release(string version, string verdict) =>
        Assert.Equal(verdict, ContainerdSupport.Describe(ContainerdVersion.TryParse(version)!).Verdict);

    [Fact]
    public void The_description_names_the_config_version_to_write()
    {
        Assert.Contains("config version 3, io.containerd.cri.v1.runtime", ContainerdSupport.Describe(ContainerdVersion.TryParse("2.1.9")!).Why, StringComparison.Ordinal);
        Assert.Contains("config version 2, io.containerd.grpc.v1.cri", ContainerdSupport.Describe(ContainerdVersion.TryParse("1.7.24")!).Why, StringComparison.Ordinal);
        Assert.Contains("end of life", ContainerdSupport.Describe(ContainerdVersion.TryParse("1.6.20")!).Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData("1.7.24", 2)]
    [InlineData("2.0.0", 3)]
    [InlineData("2.1.9", 3)]
    public void Task_api_3_is_announced_to_containerd_2_only(string? version, int api) =>
        Assert.Equal(api, ContainerdSupport.TaskApiVersion(ContainerdVersion.TryParse(version)));

    [Fact]
    public void Containerd_1_6_gets_the_bare_address() =>
        Assert.Equal("unix:///run/containerd/s/abc", BootstrapAnswer.Format("unix:///run/containerd/s/abc", null, 2));

    [Theory]
    [InlineData(2, """{"version":2,"address":"unix:///run/containerd/s/abc","protocol":"ttrpc"}""")]
    [InlineData(3, """{"version":3,"address":"unix:///run/containerd/s/abc","protocol":"ttrpc"}""")]
    public void Containerd_1_7_and_2_get_bootstrap_json(int api, string expected) =>
        Assert.Equal(expected, BootstrapAnswer.Format("unix:///run/containerd/s/abc", "2", api));

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("1", false)]
    [InlineData("2", true)]
    [InlineData("3", true)]
    [InlineData("x", false)]
    public void Json_goes_to_a_containerd_that_sets_max_shim_version_2_or_more(string? value, bool json) =>
        Assert.Equal(json, BootstrapAnswer.ReadsJson(value));
}
