using System.Text;
using Stencil.Agent.Containers;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class PrivilegedDevicesTests
{
    private static Spec Spec(string rules, string devices = "", string bounding = "\"CAP_CHOWN\"", string masked = "") =>
        SpecJson.ParseSpec(Encoding.UTF8.GetBytes($$"""
        {
          "ociVersion": "1.0.2-dev",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 }, "capabilities": { "bounding": [{{bounding}}] } },
          "root": { "path": "rootfs" },
          "linux": { "devices": [{{devices}}], "resources": { "devices": [{{rules}}] }, "maskedPaths": [{{masked}}] }
        }
        """), "config.json");

    private const string AllCaps = "\"CAP_CHOWN\", \"CAP_SYS_ADMIN\", \"CAP_SYS_MODULE\"";

    private static readonly Device[] s_guest =
    [
        new() { Type = "c", Path = "/dev/ttyS0", Major = 4, Minor = 64, FileMode = 0x1B0 },
        new() { Type = "b", Path = "/dev/vda", Major = 254, Minor = 0, FileMode = 0x1B0 },
    ];

    [Theory]
    [InlineData("""{ "allow": true, "access": "rwm" }""")]
    [InlineData("""{ "allow": false, "access": "rwm" }, { "allow": true, "type": "a", "major": -1, "minor": -1, "access": "rwm" }""")]
    public void A_privileged_spec_gets_the_guests_devices_and_keeps_its_own(string rules)
    {
        var spec = Spec(rules, """{ "type": "b", "path": "/dev/vda", "major": 7, "minor": 3 }""");

        Assert.Equal(1, PrivilegedDevices.Apply(spec, () => s_guest));

        Assert.Equal(["/dev/vda", "/dev/ttyS0"], spec.Linux!.Devices!.Select(d => d.Path));
        Assert.Equal(7, spec.Linux.Devices![0].Major); // the container's own entry wins
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{ "allow": false, "access": "rwm" }""")]
    [InlineData("""{ "allow": true, "type": "c", "access": "rwm" }""")]
    [InlineData("""{ "allow": true, "major": 1, "access": "rwm" }""")]
    [InlineData("""{ "allow": true, "access": "rw" }""")]
    public void Other_specs_get_nothing(string rules)
    {
        var spec = Spec(rules);
        Assert.Equal(0, PrivilegedDevices.Apply(spec, () => s_guest));
        Assert.Empty(spec.Linux!.Devices!);
    }

    [Fact]
    public void Privileged_without_host_devices_is_known_by_its_capabilities_and_no_masked_paths_and_gets_every_device_allowed()
    {
        // containerd with privileged_without_host_devices: all capabilities, nothing masked, default device rules.
        var spec = Spec("""{ "allow": false, "access": "rwm" }""", bounding: AllCaps);

        Assert.Equal(2, PrivilegedDevices.Apply(spec, () => s_guest));

        Assert.Equal(["/dev/ttyS0", "/dev/vda"], spec.Linux!.Devices!.Select(d => d.Path));
        Assert.Equal("""[{"allow":false,"access":"rwm"},{"allow":true,"access":"rwm"}]""",
            System.Text.Json.Nodes.JsonNode.Parse(spec.Linux.Resources!.Extra!["devices"].GetRawText())!.ToJsonString());
    }

    [Fact]
    public void All_capabilities_with_masked_paths_is_not_privileged()
    {
        var spec = Spec("", bounding: AllCaps, masked: "\"/proc/kcore\"");
        Assert.False(PrivilegedDevices.IsPrivileged(spec));
        Assert.Equal(0, PrivilegedDevices.Apply(spec, () => s_guest));
    }

    [Fact]
    public void A_uevent_names_the_node()
    {
        var device = PrivilegedDevices.FromUevent("MAJOR=4\nMINOR=64\nDEVNAME=ttyS0\n", "c", _ => 0x1B0u);
        Assert.NotNull(device);
        Assert.Equal(("c", "/dev/ttyS0", 4L, 64L, 0x1B0u, 0u, 0u), (device.Type, device.Path, device.Major, device.Minor, device.FileMode!.Value, device.Uid!.Value, device.Gid!.Value));
        Assert.Equal("/dev/net/tun", PrivilegedDevices.FromUevent("MAJOR=10\nMINOR=200\nDEVNAME=net/tun\nDEVMODE=0666\n", "c", _ => 0x1B6u)!.Path);
    }

    [Theory]
    [InlineData("MAJOR=5\nMINOR=1\nDEVNAME=console\n")]   // the runtime's own
    [InlineData("MAJOR=1\nMINOR=3\nDEVNAME=null\n")]
    [InlineData("MAJOR=136\nMINOR=0\nDEVNAME=pts/0\n")]
    [InlineData("MAJOR=4\nMINOR=64\n")]                    // no node
    [InlineData("MAJOR=4\nMINOR=64\nDEVNAME=../etc\n")]
    [InlineData("MAJOR=x\nMINOR=64\nDEVNAME=ttyS0\n")]
    public void Some_uevents_give_no_entry(string uevent) => Assert.Null(PrivilegedDevices.FromUevent(uevent, "c", _ => 0x1B0u));

    [Fact]
    public void A_node_missing_from_dev_gives_no_entry() =>
        Assert.Null(PrivilegedDevices.FromUevent("MAJOR=4\nMINOR=64\nDEVNAME=ttyS0\n", "c", _ => null));

    [Fact]
    public void This_machines_sysfs_lists_dev_null_s_neighbours()
    {
        var devices = PrivilegedDevices.FromSysfs();
        Assert.Contains(devices, d => d.Path == "/dev/kmsg" && d is { Type: "c", Major: 1, Minor: 11 });
        Assert.DoesNotContain(devices, d => d.Path == "/dev/null");
    }
    [Fact]
    public void Nodes_of_modules_loaded_on_demand_come_from_modules_devname_when_init_made_them()
    {
        const string devname = """
            # Device nodes to trigger on-demand module loading.
            fuse fuse c10:229
            loop loop-control c10:237
            tun net/tun c10:200
            loop loop0 b7:0
            bad ../etc/x c1:1
            short net/x
            odd odd x10:1
            neg neg c-1:2
            """;
        uint? Mode(string path) => path switch
        {
            "/dev/fuse" or "/dev/net/tun" => 0x1B6u,
            "/dev/loop0" => 0x180u,
            _ => null, // /dev/loop-control: init made no node
        };

        var devices = PrivilegedDevices.FromModulesDevname(devname, Mode).ToList();

        Assert.Equal(["/dev/fuse", "/dev/net/tun", "/dev/loop0"], devices.Select(d => d.Path));
        Assert.Equal(("c", 10L, 200L, 0x1B6u), (devices[1].Type, devices[1].Major, devices[1].Minor, devices[1].FileMode!.Value));
        Assert.Equal(("b", 7L, 0L), (devices[2].Type, devices[2].Major, devices[2].Minor));
    }
}
