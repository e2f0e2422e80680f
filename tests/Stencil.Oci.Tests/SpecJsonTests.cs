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

    // Found by the fuzzer (tests/Stencil.Reliability): both came out of the parser or of GuestSpecBuilder's
    // write-back as InvalidOperationException or JsonException instead of InvalidArgument.
    [Theory]
    [InlineData("{\"ociVersion\":\"1.0.2\",\"annotations\":{\"a\\ud800b\":\"x\"}}", "the escape \\ud800 at byte 39 is half of a UTF-16 surrogate pair")]
    [InlineData("{\"ociVersion\":\"1.0.2\",\"hostname\":\"\\udc00\"}", "the escape \\udc00 at byte 34 is half of a UTF-16 surrogate pair")]
    [InlineData("{\"ociVersion\":\"1.0.2\",\"hostname\":\"\\ud83d x\"}", "the escape \\ud83d at byte 34")]
    public void A_lone_surrogate_escape_is_InvalidArgument_naming_it(string json, string expected)
    {
        var ex = Assert.Throws<StencilException>(() => SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(expected, ex.Message);
        Assert.Throws<StencilException>(() => SpecJson.ParseProcess(Encoding.UTF8.GetBytes(json), "exec"));
    }

    [Fact]
    public void Escapes_that_are_text_still_parse()
    {
        // A whole pair, an escaped backslash before a "u", and ordinary escapes.
        var spec = SpecJson.ParseSpec(Encoding.UTF8.GetBytes("{\"ociVersion\":\"1.0.2\",\"hostname\":\"\\ud83d\\ude00 \\\\ud800 \\u00e9\\n\"}"), "config.json");
        Assert.Equal("\U0001F600 \\ud800 \u00e9\n", spec.Hostname);
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_are_InvalidArgument_naming_the_offset()
    {
        byte[] json = [.. Encoding.UTF8.GetBytes("{\"ociVersion\":\"1.0.2\",\"hostname\":\"a"), 0x9b, 0x71, .. Encoding.UTF8.GetBytes("\"}")];
        var ex = Assert.Throws<StencilException>(() => SpecJson.ParseSpec(json, "config.json"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("config.json: not a valid runtime spec: byte 35 is not valid UTF-8", ex.Message);
    }
}
