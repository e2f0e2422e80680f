using System.Text;
using System.Text.Json.Nodes;
using Stencil.Oci;

namespace Stencil.Oci.Tests;

[Trait("Category", "Unit")]
public class SpecJsonTests
{
    [Fact]
    public void Parses_the_fields_the_runtime_uses()
    {
        var spec = SpecJson.ParseSpec(Encoding.UTF8.GetBytes(SpecSamples.Ctr), "config.json");
        Assert.Equal(["echo", "hello"], spec.Process!.Args!);
        Assert.Equal("rootfs", spec.Root!.Path);
        Assert.Equal(268435456, spec.Linux!.Resources!.Memory!.Limit);
        Assert.Equal(50000, spec.Linux.Resources.Cpu!.Quota);
        Assert.True(spec.Mounts![1].IsBind);
        Assert.False(spec.Mounts[0].IsBind);
        Assert.Equal(254, spec.Linux.Devices![0].Major);
    }

    [Fact]
    public void Round_trip_keeps_members_that_are_not_modelled()
    {
        var spec = SpecJson.ParseSpec(Encoding.UTF8.GetBytes(SpecSamples.Ctr), "config.json");
        var written = JsonNode.Parse(SpecJson.Serialize(spec))!;
        var original = JsonNode.Parse(SpecSamples.Ctr)!;
        Assert.True(JsonNode.DeepEquals(original["hooks"], written["hooks"]));
        Assert.True(JsonNode.DeepEquals(original["extraField"], written["extraField"]));
        Assert.True(JsonNode.DeepEquals(original["process"]!["rlimits"], written["process"]!["rlimits"]));
        Assert.True(JsonNode.DeepEquals(original["linux"]!["resources"]!["devices"], written["linux"]!["resources"]!["devices"]));
    }

    [Theory]
    [InlineData("{", "config.json: not a valid runtime spec")]
    [InlineData("null", "the document is null")]
    [InlineData("""{"process": {"args": "echo"}}""", "$.process.args")]
    [InlineData("""{"linux": {"devices": [{"major": "x"}]}}""", "$.linux.devices[0].major")]
    public void Malformed_json_is_an_invalid_argument_naming_the_place(string json, string expected)
    {
        var ex = Assert.Throws<StencilException>(() => SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(expected, ex.Message);
    }
}
