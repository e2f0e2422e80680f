using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class SpecRewriterTests
{
    private const string Dir = "/run/stencil/containers/c1";
    private const string Shared = "/run/stencil/shared";

    private static JsonObject Spec() => JsonNode.Parse("""
        {
          "ociVersion": "1.0.2",
          "process": { "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": ["sh"], "cwd": "/",
                       "apparmorProfile": "docker-default", "selinuxLabel": "x", "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }] },
          "root": { "path": "rootfs" },
          "hostname": "h",
          "hooks": { "prestart": [{ "path": "/usr/bin/host-hook" }] },
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/data", "type": "bind", "source": "/run/stencil/shared/vol1", "options": ["rbind", "rw"] },
            { "destination": "/cfg", "source": "volumes/cfg", "options": ["bind", "ro"] }
          ],
          "linux": {
            "cgroupsPath": "/kubepods/besteffort/pod1/c1",
            "namespaces": [ { "type": "pid" }, { "type": "network", "path": "/var/run/netns/cni-1" }, { "type": "ipc", "path": "/proc/1/ns/ipc" }, { "type": "mount" } ],
            "seccomp": { "defaultAction": "SCMP_ACT_ALLOW" },
            "mountLabel": "y"
          }
        }
        """)!.AsObject();

    private static JsonObject Rewrite(JsonObject spec, string? shared = Shared)
    {
        var result = SpecRewriter.Rewrite(Encoding.UTF8.GetBytes(spec.ToJsonString()), "c1", Dir, shared);
        return JsonNode.Parse(SpecRewriter.Serialize(result))!.AsObject();
    }

    [Fact]
    public void Host_only_parts_are_adapted_and_the_rest_kept()
    {
        var r = Rewrite(Spec());
        Assert.Equal("/run/stencil/containers/c1/rootfs", (string?)r["root"]!["path"]);
        Assert.Null(r["hooks"]);
        Assert.Null(r["process"]!["apparmorProfile"]);
        Assert.Null(r["process"]!["selinuxLabel"]);
        Assert.Equal("RLIMIT_NOFILE", (string?)r["process"]!["rlimits"]![0]!["type"]); // unmodelled members survive
        Assert.Equal("/stencil/c1", (string?)r["linux"]!["cgroupsPath"]);
        Assert.Equal(["pid", "ipc", "mount"], r["linux"]!["namespaces"]!.AsArray().Select(n => (string)n!["type"]!));
        Assert.All(r["linux"]!["namespaces"]!.AsArray(), n => Assert.Null(n!["path"]));
        Assert.Equal("SCMP_ACT_ALLOW", (string?)r["linux"]!["seccomp"]!["defaultAction"]);
        Assert.Null(r["linux"]!["mountLabel"]);
        Assert.Equal("/run/stencil/shared/vol1", (string?)r["mounts"]![1]!["source"]);
        Assert.Equal("/run/stencil/containers/c1/volumes/cfg", (string?)r["mounts"]![2]!["source"]);
        Assert.Equal("proc", (string?)r["mounts"]![0]!["source"]);
    }

    [Theory]
    [InlineData("/etc", "root.path \"/etc\" is outside /run/stencil/containers/c1 or /run/stencil/shared")]
    [InlineData("../c2/rootfs", "root.path \"../c2/rootfs\" contains \"..\"")]
    [InlineData("/run/stencil/shared/../../etc", "root.path \"/run/stencil/shared/../../etc\" contains \"..\"")]
    public void Root_outside_is_refused(string root, string message)
    {
        var spec = Spec();
        spec["root"]!["path"] = root;
        var ex = Assert.Throws<StencilException>(() => Rewrite(spec));
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Bind_source_outside_is_refused()
    {
        var spec = Spec();
        spec["mounts"]![1]!["source"] = "/etc/shadow";
        var ex = Assert.Throws<StencilException>(() => Rewrite(spec));
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
        Assert.Contains("mounts[1].source \"/etc/shadow\"", ex.Message);
    }

    [Fact]
    public void Shared_paths_need_a_shared_folder()
    {
        var ex = Assert.Throws<StencilException>(() => Rewrite(Spec(), shared: null));
        Assert.Contains("mounts[1].source", ex.Message);
    }

    [Fact]
    public void Malformed_json_is_invalid_argument_naming_the_place()
    {
        var ex = Assert.Throws<StencilException>(() => SpecRewriter.Rewrite("{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": 5}}"u8, "c1", Dir, null));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("oci_spec_json", ex.Message);
        Assert.Contains("process.args", ex.Message);
    }

    [Theory]
    [InlineData("process", "process is missing")]
    [InlineData("root", "root.path is missing")]
    [InlineData("ociVersion", "ociVersion is missing")]
    public void Missing_fields_are_named(string field, string message)
    {
        var spec = Spec();
        spec.Remove(field);
        var ex = Assert.Throws<StencilException>(() => Rewrite(spec));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Empty_args_are_named()
    {
        var spec = Spec();
        spec["process"]!["args"] = new JsonArray();
        var ex = Assert.Throws<StencilException>(() => Rewrite(spec));
        Assert.Contains("process.args is empty", ex.Message);
    }

    [Fact]
    public void Exec_process_is_checked()
    {
        var ok = SpecRewriter.RewriteProcess("""{"args":["ls"],"cwd":"/","apparmorProfile":"p"}"""u8);
        Assert.Null(ok.ApparmorProfile);
        var ex = Assert.Throws<StencilException>(() => SpecRewriter.RewriteProcess("""{"args":[],"cwd":"rel"}"""u8));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("process.args is empty", ex.Message);
        Assert.Contains("process.cwd \"rel\" must be an absolute path", ex.Message);
    }

    [Fact]
    public void Network_sysctls_are_taken_out_for_the_agent_to_write_in_the_pod_network()
    {
        var json = Spec();
        json["linux"]!["sysctl"] = new JsonObject
        {
            ["net.ipv4.ip_local_port_range"] = "40000 50000",
            ["net.ipv4.conf.eth0/100.forwarding"] = "1",
            ["kernel.shm_rmid_forced"] = "1",
        };
        var spec = SpecRewriter.Rewrite(Encoding.UTF8.GetBytes(json.ToJsonString()), "c1", Dir, Shared);
        var taken = SpecRewriter.TakeNetworkSysctls(spec);
        Assert.Equal([("/proc/sys/net/ipv4/conf/eth0.100/forwarding", "1"), ("/proc/sys/net/ipv4/ip_local_port_range", "40000 50000")],
            taken.OrderBy(t => t.Path, StringComparer.Ordinal));
        Assert.Equal(["kernel.shm_rmid_forced"], spec.Linux!.Sysctl!.Keys);
    }

    [Theory]
    [InlineData("net..x")]
    [InlineData("net./..")]
    [InlineData("net.")]
    public void A_network_sysctl_that_is_no_sysctl_name_is_refused(string key)
    {
        var json = Spec();
        json["linux"]!["sysctl"] = new JsonObject { [key] = "1" };
        var spec = SpecRewriter.Rewrite(Encoding.UTF8.GetBytes(json.ToJsonString()), "c1", Dir, Shared);
        var ex = Assert.Throws<StencilException>(() => SpecRewriter.TakeNetworkSysctls(spec));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void CreateContainer_hooks_run_the_containers_program_and_startContainer_hooks_stay_as_they_are()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""
            { "prestart": [ { "path": "/host" } ], "createContainer": [ { "path": "/bin/hook", "args": ["hook"] } ], "startContainer": [ { "path": "/bin/start" } ] }
            """);
        var kept = SpecRewriter.ContainerHooks(doc.RootElement, "/run/stencil/containers/c1/rootfs")!.Value.GetRawText();
        Assert.Equal("""{"createContainer":[{"path":"/run/stencil/containers/c1/rootfs/bin/hook","args":["hook"]}],"startContainer":[{"path":"/bin/start"}]}""", kept);
        using var escape = System.Text.Json.JsonDocument.Parse("""{ "createContainer": [ { "path": "/../../sbin/x" } ] }""");
        Assert.Throws<StencilException>(() => SpecRewriter.ContainerHooks(escape.RootElement, "/r"));
    }
}
