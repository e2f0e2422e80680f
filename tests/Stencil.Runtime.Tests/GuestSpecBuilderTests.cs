using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Runtime.Pod;
using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public class GuestSpecBuilderTests
{
    private const string HostSpec = """
    {
      "ociVersion": "1.0.2-dev",
      "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
      "root": { "path": "/run/containerd/io.containerd.runtime.v2.task/default/c1/rootfs", "readonly": true },
      "hostname": "h",
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc" },
        { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"] },
        { "destination": "/etc/hosts", "type": "bind", "source": "/var/lib/pod/hosts", "options": ["rbind", "rw"] }
      ],
      "hooks": { "createRuntime": [{ "path": "/usr/bin/nvidia-hook" }] },
      "linux": {
        "cgroupsPath": "kubepods-besteffort.slice:cri-containerd:c1",
        "namespaces": [
          { "type": "pid", "path": "/proc/42/ns/pid" },
          { "type": "network", "path": "/var/run/netns/cni-1" },
          { "type": "mount" }
        ]
      }
    }
    """;

    private static GuestSpecPlan Plan() =>
        GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(HostSpec), "config.json"), "c1", p => p == "/var/lib/pod/hosts");

    [Fact]
    public void Rootfs_comes_from_the_shared_folder()
    {
        var plan = Plan();
        var spec = JsonNode.Parse(plan.GuestSpecJson)!;
        Assert.Equal("rootfs", (string?)spec["root"]!["path"]);
        Assert.True((bool)spec["root"]!["readonly"]!);
        Assert.Equal(StorageMount.Shared("c1/rootfs", "rootfs"), plan.Storages[0]);
    }

    [Fact]
    public void Bind_mounts_are_shared_by_index_and_keep_their_options()
    {
        var plan = Plan();
        Assert.Equal(
            [new HostBind("/srv/data", "c1/mounts/1", IsFile: false, ReadOnly: true) { Propagation = "rprivate" },
             new HostBind("/var/lib/pod/hosts", "c1/mounts/2", IsFile: true, ReadOnly: false) { Propagation = "rprivate" }],
            plan.HostBinds);
        Assert.Equal(StorageMount.Shared("c1/mounts/1", "mounts/1"), plan.Storages[1]);
        var mounts = JsonNode.Parse(plan.GuestSpecJson)!["mounts"]!.AsArray();
        Assert.Equal("proc", (string?)mounts[0]!["source"]);
        Assert.Equal("mounts/1", (string?)mounts[1]!["source"]);
        Assert.Equal("ro", (string?)mounts[1]!["options"]![1]);
        Assert.Equal("mounts/2", (string?)mounts[2]!["source"]);
    }

    [Fact]
    public void Host_only_parts_are_removed_and_noted()
    {
        var plan = Plan();
        var spec = JsonNode.Parse(plan.GuestSpecJson)!;
        Assert.Null(spec["hooks"]);
        var namespaces = spec["linux"]!["namespaces"]!.AsArray();
        Assert.Equal(["pid", "mount"], namespaces.Select(n => (string)n!["type"]!));
        Assert.All(namespaces, n => Assert.Null(n!["path"]));
        Assert.Equal("/stencil/c1", (string?)spec["linux"]!["cgroupsPath"]);
        Assert.Contains("hooks: createRuntime, prestart, poststart and poststop run on the host (OciHooks); createContainer and startContainer in the guest", plan.Notes);
        Assert.Contains("pid namespace path /proc/42/ns/pid dropped: it names a host namespace", plan.Notes);
        Assert.Contains("network namespace removed: the VM is the pod's network sandbox", plan.Notes);
    }

    [Fact]
    public void A_CRI_container_sharing_the_sandbox_IPC_UTS_and_PID_namespaces_asks_the_agent_to_join_the_sandbox()
    {
        var host = JsonNode.Parse(HostSpec)!.AsObject();
        host["linux"]!["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = "ipc", ["path"] = "/proc/42/ns/ipc" });
        host["linux"]!["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = "uts", ["path"] = "/proc/42/ns/uts" });
        host["annotations"] = new JsonObject { ["io.kubernetes.cri.container-type"] = "container", ["io.kubernetes.cri.sandbox-id"] = "pod1" };
        var plan = GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(host.ToJsonString()), "config.json"), "c1", _ => false);
        var spec = JsonNode.Parse(plan.GuestSpecJson)!;
        Assert.Equal("pid,ipc,uts", (string?)spec["annotations"]![GuestSpecBuilder.JoinSandboxNamespacesAnnotation]);
        Assert.All(spec["linux"]!["namespaces"]!.AsArray(), n => Assert.Null(n!["path"]));

        // Without CRI's annotations (ctr, the sandbox itself) nothing is joined.
        Assert.Null(JsonNode.Parse(Plan().GuestSpecJson)!["annotations"]?[GuestSpecBuilder.JoinSandboxNamespacesAnnotation]);
    }

    private static JsonNode WithAnnotations(JsonObject annotations, bool holdSandbox)
    {
        var host = JsonNode.Parse(HostSpec)!.AsObject();
        host["annotations"] = annotations;
        return JsonNode.Parse(GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(host.ToJsonString()), "config.json"), "c1", _ => false,
            holdSandbox: holdSandbox).GuestSpecJson)!;
    }

    [Fact]
    public void Only_a_CRI_sandbox_container_is_marked_for_the_agents_holder_and_only_when_asked()
    {
        JsonObject Sandbox() => new() { ["io.kubernetes.cri.container-type"] = "sandbox", ["io.kubernetes.cri.sandbox-id"] = "c1" };
        Assert.Equal("true", (string?)WithAnnotations(Sandbox(), holdSandbox: true)["annotations"]![StencilAnnotations.SandboxHolder]);
        Assert.Null(WithAnnotations(Sandbox(), holdSandbox: false)["annotations"]![StencilAnnotations.SandboxHolder]);
        Assert.Null(WithAnnotations(new JsonObject { ["io.kubernetes.cri.container-type"] = "container", ["io.kubernetes.cri.sandbox-id"] = "p" },
            holdSandbox: true)["annotations"]![StencilAnnotations.SandboxHolder]);
        // ctr's containers carry no CRI annotation: they are never the sandbox.
        Assert.Null(WithAnnotations(new JsonObject(), holdSandbox: true)["annotations"]![StencilAnnotations.SandboxHolder]);
    }

    [Fact]
    public void The_agents_annotations_a_pod_brings_are_dropped()
    {
        var spec = WithAnnotations(new JsonObject
        {
            ["io.kubernetes.cri.container-type"] = "container",
            [StencilAnnotations.SandboxHolder] = "true",
            [StencilAnnotations.JoinSandboxNamespaces] = "pid",
            ["io.stencil.vcpus"] = "2",
        }, holdSandbox: true);

        Assert.Null(spec["annotations"]![StencilAnnotations.SandboxHolder]);
        Assert.Null(spec["annotations"]![StencilAnnotations.JoinSandboxNamespaces]);
        Assert.Equal("2", (string?)spec["annotations"]!["io.stencil.vcpus"]);
    }

    [Fact]
    public void The_sandbox_shm_and_a_memory_emptyDir_become_guest_tmpfs_other_host_tmpfs_stay_shared()
    {
        const string json = """
        {
          "ociVersion": "1.0.2-dev",
          "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
          "root": { "path": "rootfs" },
          "mounts": [
            { "destination": "/dev/shm", "type": "bind", "source": "/run/containerd/sandboxes/abc/shm", "options": ["rbind", "ro"] },
            { "destination": "/scratch", "type": "bind", "source": "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch", "options": ["rbind"] },
            { "destination": "/cache", "type": "bind", "source": "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache", "options": ["rbind"] },
            { "destination": "/host-run", "type": "bind", "source": "/run", "options": ["rbind"] },
            { "destination": "/logs", "type": "bind", "source": "/var/lib/kubelet/pods/u1/volume-subpaths/scratch/app/0", "options": ["rbind"] }
          ]
        }
        """;
        // Every source but the disk-backed emptyDir (cache) is a host tmpfs; the subPath bind shows the
        // folder logs/app of the scratch volume's tmpfs.
        HostTmpfsMount? Tmpfs(string path) => path switch
        {
            _ when path.EndsWith("/cache", StringComparison.Ordinal) => null,
            _ when path.Contains("volume-subpaths", StringComparison.Ordinal) =>
                new(["size=64k", "nosuid"], "/logs/app", "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch"),
            _ => new(["size=64k", "nosuid"], "/", null),
        };
        var plan = GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"), "c1", _ => false, null, Tmpfs);

        Assert.Equal(
            [
                StorageMount.Shared("c1/rootfs", "rootfs"),
                StorageMount.Ephemeral("shm", "mounts/0", ["size=64k", "nosuid"]),
                StorageMount.Ephemeral("emptydir-scratch", "mounts/1", ["size=64k", "nosuid"]),
                StorageMount.Shared("c1/mounts/2", "mounts/2"),
                StorageMount.Shared("c1/mounts/3", "mounts/3"),
                StorageMount.Ephemeral("emptydir-scratch", "mounts/4", ["size=64k", "nosuid"]) with { Subpath = "logs/app" },
            ],
            plan.Storages, new StorageMountComparer());
        Assert.Equal(["/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache", "/run"], plan.HostBinds.Select(b => b.HostPath));
        var mounts = JsonNode.Parse(plan.GuestSpecJson)!["mounts"]!.AsArray();
        Assert.Equal(["mounts/0", "mounts/1", "mounts/2", "mounts/3", "mounts/4"], mounts.Select(m => (string)m!["source"]!));
        Assert.Equal("ro", (string?)mounts[0]!["options"]![1]);
    }

    /// <summary>Records compare their option lists by reference; these compare them by content.</summary>
    private sealed class StorageMountComparer : IEqualityComparer<StorageMount>
    {
        public bool Equals(StorageMount? x, StorageMount? y) =>
            x is not null && y is not null && x.Kind == y.Kind && x.Source == y.Source && x.MountPoint == y.MountPoint
            && x.FsType == y.FsType && (x.Options ?? []).SequenceEqual(y.Options ?? []) && x.Subpath == y.Subpath;

        public int GetHashCode(StorageMount obj) => HashCode.Combine(obj.Kind, obj.Source, obj.MountPoint);
    }
}
