using System.Text;
using System.Text.Json.Nodes;
using Stencil.Oci;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>linux.devices through <see cref="GuestSpecBuilder"/>: block devices planned for hotplug, character devices refused or kept.</summary>
[Trait("Category", "Unit")]
public class GuestSpecDeviceTests
{
    // What `ctr run --device /dev/loop3` writes: the entry and an allow rule after the default deny.
    private static JsonObject Spec(string devices, string rules) => JsonNode.Parse($$"""
        {
          "ociVersion": "1.0.2-dev",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
          "root": { "path": "rootfs" },
          "linux": {
            "devices": [{{devices}}],
            "resources": { "devices": [{{rules}}] }
          }
        }
        """)!.AsObject();

    private const string Loop3 = """{ "type": "b", "path": "/dev/loop3", "major": 7, "minor": 3, "fileMode": 432, "uid": 0, "gid": 6 }""";
    private const string DenyAll = """{ "allow": false, "access": "rwm" }""";
    private const string AllowLoop3 = """{ "allow": true, "type": "b", "major": 7, "minor": 3, "access": "rwm" }""";

    private static readonly Func<long, long, string?> HostHasLoop3 = (major, minor) => (major, minor) == (7, 3) ? "/dev/loop3" : null;

    private static GuestSpecPlan Build(JsonObject spec, Func<long, long, string?>? find = null) =>
        GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(spec.ToJsonString()), "config.json"), "c1", _ => false, find ?? HostHasLoop3);

    [Fact]
    public void A_block_device_is_planned_for_hotplug_and_its_entry_and_rule_keep_the_host_numbers_for_the_agent()
    {
        var plan = Build(Spec(Loop3, $"{DenyAll}, {AllowLoop3}"));

        Assert.Equal([new HostBlockDevice("/dev/loop3", "/dev/loop3", 7, 3, ReadOnly: false)], plan.BlockDevices);
        var guest = JsonNode.Parse(plan.GuestSpecJson)!;
        Assert.Equal(JsonNode.Parse(Loop3)!.ToJsonString(), guest["linux"]!["devices"]![0]!.ToJsonString());
        Assert.Equal(JsonNode.Parse(AllowLoop3)!.ToJsonString(), guest["linux"]!["resources"]!["devices"]![1]!.ToJsonString());
        Assert.Contains("block device /dev/loop3 (7:3) is host /dev/loop3, hot-plugged as virtio-blk", plan.Notes);
    }

    [Fact]
    public void The_host_node_is_found_by_number_not_by_the_container_path()
    {
        var plan = Build(Spec("""{ "path": "/dev/xvda", "type": "b", "major": 7, "minor": 3 }""", AllowLoop3));

        Assert.Equal("/dev/loop3", plan.BlockDevices[0].HostPath);
        Assert.Equal("/dev/xvda", plan.BlockDevices[0].ContainerPath);
    }

    [Theory]
    [InlineData("""{ "allow": true, "type": "b", "major": 7, "minor": 3, "access": "r" }""", true)]
    [InlineData("""{ "allow": true, "type": "b", "major": 7, "minor": 3, "access": "rw" }""", false)]
    [InlineData("""{ "allow": true, "type": "b", "major": 7, "minor": 3, "access": "rwm" }, { "allow": false, "type": "b", "major": 7, "minor": 3, "access": "w" }""", true)]
    [InlineData("""{ "allow": true, "type": "b", "major": 8, "minor": 0, "access": "rwm" }""", true)]
    public void The_disk_is_read_only_when_the_device_rules_never_let_the_container_write_it(string rules, bool readOnly)
    {
        var plan = Build(Spec(Loop3, $"{DenyAll}, {rules}"));

        Assert.Equal(readOnly, plan.BlockDevices[0].ReadOnly);
    }

    [Fact]
    public void Without_device_rules_nothing_restricts_writing()
    {
        var spec = Spec(Loop3, "");
        spec["linux"]!.AsObject().Remove("resources");

        Assert.False(Build(spec).BlockDevices[0].ReadOnly);
    }

    [Fact]
    public void A_block_device_the_host_does_not_have_is_not_found()
    {
        var ex = Assert.Throws<StencilException>(() => Build(Spec("""{ "path": "/dev/loop9", "type": "b", "major": 7, "minor": 9 }""", "")));

        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal("block device 7:9 (linux.devices path /dev/loop9) does not exist on the host", ex.Message);
    }

    [Theory]
    [InlineData("c")]
    [InlineData("u")]
    public void A_character_device_of_a_host_driver_is_refused_naming_its_path(string type)
    {
        var ex = Assert.Throws<StencilException>(() => Build(Spec($$"""{ "path": "/dev/ttyUSB0", "type": "{{type}}", "major": 188, "minor": 0 }""", "")));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("character device /dev/ttyUSB0 (188:0) cannot be passed into a VM", ex.Message);
    }

    [Fact]
    public void A_privileged_container_given_every_host_device_gets_none_of_them()
    {
        // containerd for a privileged container without privileged_without_host_devices (and ctr run --privileged):
        // a rule allowing every device says so, and the devices listed are the host's wholesale.
        var plan = Build(Spec($$"""{ "path": "/dev/ttyS0", "type": "c", "major": 4, "minor": 64 }, {{Loop3}}""", """{ "allow": true, "access": "rwm" }"""));

        Assert.Empty(plan.BlockDevices);
        Assert.Empty(JsonNode.Parse(plan.GuestSpecJson)!["linux"]!["devices"]!.AsArray());
        Assert.Contains("privileged: the host's 2 devices dropped; the guest gives its own", plan.Notes);
    }

    [Theory]
    [InlineData("/dev/null", 1, 3)]
    [InlineData("/dev/zero", 1, 5)]
    [InlineData("/dev/full", 1, 7)]
    [InlineData("/dev/random", 1, 8)]
    [InlineData("/dev/urandom", 1, 9)]
    [InlineData("/dev/tty", 5, 0)]
    [InlineData("/dev/net/tun", 10, 200)]
    [InlineData("/dev/fuse", 10, 229)]
    public void Character_devices_every_guest_has_are_kept_as_they_are(string path, int major, int minor)
    {
        var entry = $$"""{ "type": "c", "path": "{{path}}", "major": {{major}}, "minor": {{minor}}, "fileMode": 438 }""";
        var rule = $$"""{ "allow": true, "type": "c", "major": {{major}}, "minor": {{minor}}, "access": "rwm" }""";

        var plan = Build(Spec(entry, $"{DenyAll}, {rule}"), (_, _) => throw new InvalidOperationException("not a block device"));

        Assert.Empty(plan.BlockDevices);
        var guest = JsonNode.Parse(plan.GuestSpecJson)!;
        Assert.Equal(JsonNode.Parse(entry)!.ToJsonString(), guest["linux"]!["devices"]![0]!.ToJsonString());
        Assert.Equal(JsonNode.Parse(rule)!.ToJsonString(), guest["linux"]!["resources"]!["devices"]![1]!.ToJsonString());
    }

    [Fact]
    public void The_same_container_path_twice_is_refused()
    {
        var ex = Assert.Throws<StencilException>(() => Build(Spec($"{Loop3}, {Loop3}", "")));

        Assert.Equal("linux.devices names /dev/loop3 more than once", ex.Message);
    }

    [Fact]
    public void Without_a_lookup_every_block_device_is_not_found()
    {
        var spec = SpecJson.ParseSpec(Encoding.UTF8.GetBytes(Spec(Loop3, "").ToJsonString()), "config.json");

        var ex = Assert.Throws<StencilException>(() => GuestSpecBuilder.Build(spec, "c1", _ => false));

        Assert.Equal(ErrorKind.NotFound, ex.Kind);
    }
}
