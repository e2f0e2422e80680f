using System.Text;
using Stencil.Oci;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class GuestSpecFeaturesTests
{
    private static GuestSpecPlan Build(string linux = "", string mount = "")
    {
        var json = $$"""
        {
          "ociVersion": "1.2.1",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
          "root": { "path": "rootfs" },
          "mounts": [ { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]{{mount}} } ],
          "linux": { "namespaces": [ { "type": "mount" } ]{{linux}} }
        }
        """;
        return GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"), "c1", _ => false);
    }

    private static string Refusal(string linux = "", string mount = "")
    {
        var e = Assert.Throws<StencilException>(() => Build(linux, mount));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        return e.Message;
    }

    [Fact]
    public void A_spec_of_version_1_2_with_fields_the_guest_knows_is_accepted()
    {
        var plan = Build(linux: """, "timeOffsets": {"monotonic": {"secs": 1}}, "personality": {"domain": "LINUX"}""");
        Assert.Contains("\"ociVersion\":\"1.2.1\"", Encoding.UTF8.GetString(plan.GuestSpecJson), StringComparison.Ordinal);
    }

    [Fact]
    public void Host_network_devices_are_refused_naming_the_field() =>
        Assert.Equal("container \"c1\" spec field linux.netDevices is not supported in a VM: it moves host network interfaces into the container, and a host interface cannot enter a VM; let CNI give the pod its network (it is plugged into the VM)",
            Refusal(linux: """, "netDevices": {"eth1": {"name": "eth1"}}"""));

    [Fact]
    public void A_memory_policy_is_refused_naming_the_field() =>
        Assert.Contains("spec field linux.memoryPolicy is not supported", Refusal(linux: """, "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-1"}"""), StringComparison.Ordinal);

    [Fact]
    public void Intel_rdt_is_refused_naming_the_field() =>
        Assert.Contains("spec field linux.intelRdt is not supported", Refusal(linux: """, "intelRdt": {"closID": "guaranteed"}"""), StringComparison.Ordinal);

    [Fact]
    public void An_idmapped_mount_is_refused_naming_the_mount() =>
        Assert.Contains("spec field mounts[0].uidMappings (/data) is not supported in a VM: it asks for an idmapped mount",
            Refusal(mount: """, "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]"""), StringComparison.Ordinal);

    [Fact]
    public void Empty_members_ask_for_nothing() =>
        Build(linux: """, "netDevices": {}, "intelRdt": null""", mount: """, "uidMappings": []""");
}
