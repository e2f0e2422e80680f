using System.Text;
using System.Text.Json.Nodes;
using Stencil.Oci;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class GuestSecurityRulesTests
{
    private static GuestSpecPlan Build(string process = "", string linux = "", string mountOptions = "\"rbind\", \"rprivate\"")
    {
        var json = $$"""
        {
          "ociVersion": "1.0.2-dev",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 }{{process}} },
          "root": { "path": "rootfs" },
          "mounts": [ { "destination": "/data", "type": "bind", "source": "/srv/data", "options": [{{mountOptions}}] } ],
          "linux": { "namespaces": [ { "type": "mount" } ]{{linux}} }
        }
        """;
        return GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"), "c1", _ => false);
    }

    private static JsonNode Guest(GuestSpecPlan plan) => JsonNode.Parse(plan.GuestSpecJson)!;

    [Fact]
    public void A_seccomp_filter_passes_to_the_guest_unchanged()
    {
        const string seccomp = """{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}""";
        var plan = Build(linux: $", \"seccomp\": {seccomp}");

        Assert.Equal(JsonNode.Parse(seccomp)!.ToJsonString(), Guest(plan)["linux"]!["seccomp"]!.ToJsonString());
        Assert.Contains(plan.Notes, n => n.Contains("seccomp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_seccomp_notify_listener_is_refused_it_is_a_host_socket()
    {
        var e = Assert.Throws<StencilException>(() => Build(linux: """, "seccomp": {"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/seccomp-agent.sock"}"""));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("container \"c1\" asks for a seccomp notify listener at /run/seccomp-agent.sock: that is a host socket, and the filter runs in the guest kernel, which cannot reach it", e.Message);
    }

    [Theory]
    [InlineData("cri-containerd.apparmor.d")]
    [InlineData("unconfined")]
    public void AppArmor_runtime_default_and_unconfined_are_accepted_without_a_profile_in_the_guest(string profile)
    {
        var plan = Build(process: $", \"apparmorProfile\": \"{profile}\"");
        Assert.Null(Guest(plan)["process"]!["apparmorProfile"]);
    }

    [Fact]
    public void A_named_AppArmor_profile_is_refused()
    {
        var e = Assert.Throws<StencilException>(() => Build(process: ", \"apparmorProfile\": \"k8s-nginx\""));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("container \"c1\" asks for AppArmor profile \"k8s-nginx\": the guest kernel has no AppArmor profiles loaded, so a VM runtime cannot apply it; use runtime/default or unconfined with runtime class stencil, or another runtime class", e.Message);
    }

    [Fact]
    public void SELinux_labels_are_refused()
    {
        var process = Assert.Throws<StencilException>(() => Build(process: ", \"selinuxLabel\": \"system_u:system_r:container_t:s0:c1,c2\""));
        Assert.StartsWith("container \"c1\" asks for SELinux process label \"system_u:system_r:container_t:s0:c1,c2\": the guest kernel does not run SELinux", process.Message);
        var mount = Assert.Throws<StencilException>(() => Build(linux: ", \"mountLabel\": \"system_u:object_r:container_file_t:s0:c1,c2\""));
        Assert.StartsWith("container \"c1\" asks for SELinux mount label", mount.Message);
        Assert.Equal(ErrorKind.InvalidArgument, mount.Kind);
    }

    [Fact]
    public void Empty_labels_are_no_request()
    {
        var plan = Build(process: ", \"selinuxLabel\": \"\", \"apparmorProfile\": \"\"", linux: ", \"mountLabel\": \"\"");
        Assert.Null(Guest(plan)["process"]!["apparmorProfile"]);
    }

    [Theory]
    [InlineData("\"rbind\", \"rprivate\"", "rprivate")]
    [InlineData("\"rbind\"", "rprivate")]
    [InlineData("\"rbind\", \"rslave\"", "rslave")]
    [InlineData("\"rbind\", \"slave\", \"ro\"", "rslave")]
    public void HostToContainer_propagation_makes_the_shared_folder_copy_a_slave(string options, string? expected)
    {
        var bind = Assert.Single(Build(mountOptions: options).HostBinds);
        Assert.Equal(expected, bind.Propagation);
    }

    [Theory]
    [InlineData("rshared")]
    [InlineData("shared")]
    public void Bidirectional_propagation_is_refused(string option)
    {
        var e = Assert.Throws<StencilException>(() => Build(mountOptions: $"\"rbind\", \"{option}\""));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal($"container \"c1\" mount /data asks for bidirectional mount propagation ({option}): mounts made inside a VM cannot propagate to the host; use mountPropagation HostToContainer or None with runtime class stencil", e.Message);
    }

    [Fact]
    public void A_shared_rootfs_propagation_is_refused()
    {
        var e = Assert.Throws<StencilException>(() => Build(linux: ", \"rootfsPropagation\": \"rshared\""));
        Assert.Contains("rootfsPropagation \"rshared\"", e.Message, StringComparison.Ordinal);
    }
}
