using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Containers;
using Stencil.Oci;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class DeviceRewriterTests : IDisposable
{
    private readonly string _sys = Directory.CreateTempSubdirectory("stencil-test-agent-devnum-").FullName;

    public void Dispose() => Directory.Delete(_sys, recursive: true);

    // The host's /dev/loop3 (7:3) and /dev/sdb (8:16) as the shim sends them; sdb's rule is read-only.
    private static Oci.Model.Spec Spec(string extraRules = "") => SpecJson.ParseSpec(Encoding.UTF8.GetBytes($$"""
        {
          "ociVersion": "1.0.2",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
          "root": { "path": "rootfs" },
          "linux": {
            "devices": [
              { "type": "c", "path": "/dev/fuse", "major": 10, "minor": 229 },
              { "type": "b", "path": "/dev/loop3", "major": 7, "minor": 3, "fileMode": 432, "uid": 0, "gid": 6 },
              { "type": "b", "path": "/dev/data", "major": 8, "minor": 16 }
            ],
            "resources": {
              "memory": { "limit": 1048576 },
              "devices": [
                { "allow": false, "access": "rwm" },
                { "allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm" },
                { "allow": true, "type": "b", "major": 7, "minor": 3, "access": "rwm" },
                { "allow": true, "type": "b", "major": 8, "minor": 16, "access": "r" },
                { "allow": true, "type": "b", "major": 7, "access": "r" }{{extraRules}}
              ]
            }
          }
        }
        """), "oci_spec_json");

    private static JsonNode Json(Oci.Model.Spec spec) => JsonNode.Parse(SpecJson.Serialize(spec))!;

    [Fact]
    public void Entries_and_their_rules_get_the_guest_numbers_and_nothing_else_changes()
    {
        var spec = Spec();

        DeviceRewriter.Apply(spec, [new GuestDevice("/dev/loop3", 254, 16), new GuestDevice("/dev/data", 254, 32)]);

        var json = Json(spec);
        Assert.Equal(
            """[{"type":"c","path":"/dev/fuse","major":10,"minor":229},{"type":"b","path":"/dev/loop3","major":254,"minor":16,"fileMode":432,"uid":0,"gid":6},{"type":"b","path":"/dev/data","major":254,"minor":32}]""",
            json["linux"]!["devices"]!.ToJsonString());
        Assert.Equal(
            """[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":10,"minor":229,"access":"rwm"},{"allow":true,"type":"b","major":254,"minor":16,"access":"rwm"},{"allow":true,"type":"b","major":254,"minor":32,"access":"r"},{"allow":true,"type":"b","major":7,"access":"r"}]""",
            json["linux"]!["resources"]!["devices"]!.ToJsonString());
        Assert.Equal(1048576, (long)json["linux"]!["resources"]!["memory"]!["limit"]!);
    }

    [Fact]
    public void Numbers_are_mapped_once_from_the_originals_even_when_one_devices_guest_numbers_are_anothers_host_numbers()
    {
        var spec = Spec();

        // loop3 becomes 8:16, which is /dev/data's host number; /dev/data becomes 254:0.
        DeviceRewriter.Apply(spec, [new GuestDevice("/dev/loop3", 8, 16), new GuestDevice("/dev/data", 254, 0)]);

        var rules = Json(spec)["linux"]!["resources"]!["devices"]!.AsArray();
        Assert.Equal((8, 16, "rwm"), ((long)rules[2]!["major"]!, (long)rules[2]!["minor"]!, (string)rules[2]!["access"]!));
        Assert.Equal((254, 0, "r"), ((long)rules[3]!["major"]!, (long)rules[3]!["minor"]!, (string)rules[3]!["access"]!));
    }

    [Fact]
    public void A_device_without_its_entry_or_at_a_character_entry_is_refused()
    {
        var missing = Assert.Throws<StencilException>(() => DeviceRewriter.Apply(Spec(), [new GuestDevice("/dev/vdz", 254, 0)]));
        var chr = Assert.Throws<StencilException>(() => DeviceRewriter.Apply(Spec(), [new GuestDevice("/dev/data", 254, 0), new GuestDevice("/dev/fuse", 254, 16)]));

        Assert.Equal((ErrorKind.InvalidArgument, "devices[0].container_path \"/dev/vdz\" names no linux.devices entry of the spec"), (missing.Kind, missing.Message));
        Assert.Equal("devices[1].container_path \"/dev/fuse\": linux.devices has type \"c\" there, not a block device (b)", chr.Message);
    }

    [Fact]
    public void No_devices_leave_the_spec_alone()
    {
        var spec = Spec();
        var before = Json(spec).ToJsonString();

        DeviceRewriter.Apply(spec, []);

        Assert.Equal(before, Json(spec).ToJsonString());
    }

    [Fact]
    public void The_guest_numbers_come_from_sysfs()
    {
        Directory.CreateDirectory(Path.Combine(_sys, "block", "vdb"));
        File.WriteAllText(Path.Combine(_sys, "block", "vdb", "dev"), "254:16\n");
        Directory.CreateDirectory(Path.Combine(_sys, "block", "vdc"));
        File.WriteAllText(Path.Combine(_sys, "block", "vdc", "dev"), "junk\n");
        var locator = new BlockDeviceLocator(_sys);

        Assert.Equal((254L, 16L), locator.DeviceNumbers("/dev/vdb"));
        Assert.Equal(ErrorKind.Internal, Assert.Throws<StencilException>(() => locator.DeviceNumbers("/dev/vdc")).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<StencilException>(() => locator.DeviceNumbers("/dev/vdd")).Kind);
    }
}
