using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Runtime.Pod;
using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests;

/// <summary>The guest spec plan with [hypervisor] shared_fs = "none": the rootfs on a disk, no host bind mounts.</summary>
[Trait("Category", "Unit")]
public sealed class GuestSpecWithoutShareTests
{
    private const string HostSpec = """
    {
      "ociVersion": "1.0.2-dev",
      "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
      "root": { "path": "/run/containerd/io.containerd.runtime.v2.task/default/c1/rootfs", "readonly": true },
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc" },
        { "destination": "/dev/shm", "type": "bind", "source": "/run/containerd/sandboxes/p1/shm", "options": ["rbind", "ro"] }
      ]
    }
    """;

    /// <summary>The sandbox's /dev/shm on the host is a tmpfs: the guest's own tmpfs stands in for it.</summary>
    private static HostTmpfsMount? Tmpfs(string path) => path.EndsWith("/shm", StringComparison.Ordinal) ? new(["size=64k"], "/", null) : null;

    private static GuestSpecPlan Plan(string json = HostSpec, bool sharedFolder = false, bool holdSandbox = false) =>
        GuestSpecBuilder.Build(SpecJson.ParseSpec(Encoding.UTF8.GetBytes(json), "config.json"), "c1", _ => false, null, Tmpfs, holdSandbox, sharedFolder);

    [Fact]
    public void The_rootfs_is_not_a_shared_path_but_a_disk_named_once_it_is_plugged()
    {
        var plan = Plan();

        Assert.True(plan.RootfsOnDisk);
        Assert.DoesNotContain(plan.Storages, s => s.Kind == StorageKind.SharedPath);
        Assert.Empty(plan.HostBinds);

        var plugged = plan.WithRootfsDisk("blk3");
        Assert.Equal(StorageMount.BlockBySerial("blk3", "ext4", "rootfs"), plugged.Storages[0]);
        Assert.Equal(plan.Storages, plugged.Storages.Skip(1));
        // The read-only root stays the spec's: crun makes it read-only once its mount points are made.
        var spec = JsonNode.Parse(plugged.GuestSpecJson)!;
        Assert.Equal("rootfs", (string?)spec["root"]!["path"]);
        Assert.True((bool)spec["root"]!["readonly"]!);
    }

    [Fact]
    public void A_bind_of_a_host_tmpfs_the_guest_stands_in_for_still_works()
    {
        var plan = Plan();

        var shm = Assert.Single(plan.Storages);
        Assert.Equal(StorageKind.Ephemeral, shm.Kind);
        Assert.Equal("mounts/1", shm.MountPoint);
    }

    [Fact]
    public void With_the_share_the_plan_is_as_before()
    {
        var plan = Plan(sharedFolder: true);

        Assert.False(plan.RootfsOnDisk);
        Assert.Equal(StorageMount.Shared("c1/rootfs", "rootfs"), plan.Storages[0]);
        Assert.Throws<InvalidOperationException>(() => plan.WithRootfsDisk("blk0"));
    }

    [Fact]
    public void A_host_bind_mount_is_refused_naming_the_mount_and_the_setting()
    {
        var host = JsonNode.Parse(HostSpec)!.AsObject();
        host["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/data", ["type"] = "bind", ["source"] = "/srv/data", ["options"] = new JsonArray("rbind", "ro"),
        });

        var e = Assert.Throws<StencilException>(() => Plan(host.ToJsonString()));

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("bind mount /srv/data -> /data: a host folder or file reaches the VM only through the pod's shared folder, "
            + "which [hypervisor] shared_fs = \"none\" turns off", e.Message);
        // With the share it is a bind like any other.
        Assert.Equal("/srv/data", Assert.Single(Plan(host.ToJsonString(), sharedFolder: true).HostBinds).HostPath);
    }

    [Fact]
    public void A_sandbox_container_the_agents_holder_serves_gets_no_rootfs_at_all()
    {
        var host = JsonNode.Parse(HostSpec)!.AsObject();
        host["annotations"] = new JsonObject { ["io.kubernetes.cri.container-type"] = "sandbox", ["io.kubernetes.cri.sandbox-id"] = "c1" };

        var plan = Plan(host.ToJsonString(), holdSandbox: true);

        Assert.False(plan.RootfsOnDisk);
        Assert.DoesNotContain(plan.Storages, s => s.MountPoint == GuestSpecBuilder.RootfsMountPoint);
        // Served by crun instead, it needs its image like any container.
        Assert.True(Plan(host.ToJsonString(), holdSandbox: false).RootfsOnDisk);
    }
}
