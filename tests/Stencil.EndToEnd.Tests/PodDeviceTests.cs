using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.TestSupport;
using Stencil.Ttrpc;
using static Stencil.EndToEnd.Tests.ShimBinary;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// A block device of one container in a pod that outlives it: the disk is unplugged from the running VM
/// when that container is deleted (the sandbox keeps the VM). Driven through the shim binary with CRI's
/// annotations, as containerd's CRI plugin would (ctr makes every container a pod of its own).
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class PodDeviceTests(StencilContainerd s)
{
    private const string Pod = "e2e-pod";
    private const string App = "e2e-pod-app";
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public Task A_containers_disk_is_unplugged_from_the_running_VM_when_the_container_is_deleted() => RunPodAsync(vmDies: false);

    [Fact]
    public Task When_the_VM_died_deleting_the_container_and_the_pod_still_leaves_nothing() => RunPodAsync(vmDies: true);

    /// <summary>A sandbox and a container reading a loop device; then the container is deleted (after the VM died, if so).</summary>
    private async Task RunPodAsync(bool vmDies)
    {
        const string pattern = "pod-disk-pattern";
        var dir = Directory.CreateDirectory(Path.Combine(s.Dir, "pod-device")).FullName;
        var image = Path.Combine(dir, "disk.img");
        var bytes = new byte[1024 * 1024];
        Encoding.ASCII.GetBytes(pattern).CopyTo(bytes, 0);
        File.WriteAllBytes(image, bytes);
        var loop = (await ChildProcess.RunAsync("losetup", ["-f", "--show", image], s_toolTimeout)).EnsureSuccess("losetup -f --show").Trim();
        var shim = new ShimBinary(s);
        try
        {
            var rootfs = BusyboxRootfs(Path.Combine(dir, "rootfs"), "sh", "sleep", "head");
            var template = JsonNode.Parse((await s.Ctr("oci", "spec")).EnsureSuccess("ctr oci spec"))!;
            var sandbox = Bundle(dir, template, rootfs, Pod, "sandbox", ["sleep", "1000"]);
            var app = Bundle(dir, template, rootfs, App, "container", ["head", "-c", "16", loop], await DeviceAsync(loop));
            var stdout = Path.Combine(dir, "app.out");
            File.WriteAllBytes(stdout, []);

            var address = (await shim.RunAsync([.. shim.Flags(Pod, sandbox), "start"])).EnsureSuccess("start (sandbox)").Trim();
            Assert.Equal(address, (await shim.RunAsync([.. shim.Flags(App, app), "start"])).EnsureSuccess("start (app)").Trim());
            await using var client = await TtrpcClient.ConnectAsync(address);
            var daemon = (int)(await CallAsync<ConnectRequest, ConnectResponse>(client, "Connect", new ConnectRequest { Id = Pod })).ShimPid;
            try
            {
                await CallAsync<CreateTaskRequest, CreateTaskResponse>(client, "Create", new CreateTaskRequest { Id = Pod, Bundle = sandbox });
                await CallAsync<StartRequest, StartResponse>(client, "Start", new StartRequest { Id = Pod });
                await CallAsync<CreateTaskRequest, CreateTaskResponse>(client, "Create", new CreateTaskRequest { Id = App, Bundle = app, Stdout = stdout });
                var qemu = QemuPid();
                Assert.True(HoldsOpen(qemu, loop), $"QEMU {qemu} does not have {loop} open");

                await CallAsync<StartRequest, StartResponse>(client, "Start", new StartRequest { Id = App });
                var exit = await CallAsync<WaitRequest, WaitResponse>(client, "Wait", new WaitRequest { Id = App });
                Assert.Equal(0u, exit.ExitStatus);
                Assert.Equal(pattern, File.ReadAllText(stdout));

                if (vmDies)
                {
                    // QEMU killed under the pod: the disk goes with it, and the deletes find nothing to unplug.
                    System.Diagnostics.Process.GetProcessById(qemu).Kill();
                    var lost = await CallAsync<WaitRequest, WaitResponse>(client, "Wait", new WaitRequest { Id = Pod });
                    Assert.Equal(255u, lost.ExitStatus);
                    await CallAsync<DeleteRequest, DeleteResponse>(client, "Delete", new DeleteRequest { Id = App });
                }
                else
                {
                    await CallAsync<DeleteRequest, DeleteResponse>(client, "Delete", new DeleteRequest { Id = App });
                    Assert.Equal(qemu, QemuPid()); // the sandbox keeps the VM...
                    Assert.False(HoldsOpen(qemu, loop), $"QEMU {qemu} still has {loop} open after its container was deleted");
                    await CallAsync<KillRequest, Empty>(client, "Kill", new KillRequest { Id = Pod, Signal = 9 });
                    await CallAsync<WaitRequest, WaitResponse>(client, "Wait", new WaitRequest { Id = Pod });
                }
                await CallAsync<DeleteRequest, DeleteResponse>(client, "Delete", new DeleteRequest { Id = Pod });
                await CallAsync<ShutdownRequest, Empty>(client, "Shutdown", new ShutdownRequest { Id = Pod });
                await Eventually.UntilAsync(() => Task.FromResult(!IsRunning(daemon)), $"shim daemon {daemon} exited");
            }
            finally
            {
                if (IsRunning(daemon))
                    System.Diagnostics.Process.GetProcessById(daemon).Kill();
                await shim.RunAsync([.. shim.Flags(App, app), "delete"]);
                await shim.RunAsync([.. shim.Flags(Pod, sandbox), "delete"]);
            }
        }
        finally
        {
            await ChildProcess.RunAsync("losetup", ["-d", loop], s_toolTimeout);
            Directory.Delete(dir, recursive: true);
        }
        await Eventually.NothingLeftAsync(s);
        // Released: losetup -d took it away at once (a device still held would linger, marked autoclear).
        Assert.DoesNotContain(dir, (await ChildProcess.RunAsync("losetup", ["-a"], s_toolTimeout)).Stdout);
    }

    /// <summary>A bundle as CRI makes it: config.json with the pod annotations, the rootfs a host folder.</summary>
    private static string Bundle(string dir, JsonNode template, string rootfs, string id, string type, string[] args, (JsonObject Device, JsonObject Rule)? device = null)
    {
        var spec = template.DeepClone();
        spec["root"] = new JsonObject { ["path"] = rootfs };
        spec["process"]!["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]);
        spec["process"]!["env"] = new JsonArray("PATH=/bin");
        spec["annotations"] = new JsonObject
        {
            ["io.kubernetes.cri.container-type"] = type,
            ["io.kubernetes.cri.sandbox-id"] = Pod,
        };
        if (device is { } d)
        {
            spec["linux"]!["devices"] = new JsonArray(d.Device);
            spec["linux"]!["resources"]!["devices"]!.AsArray().Add(d.Rule);
        }
        var bundle = Directory.CreateDirectory(Path.Combine(dir, "bundles", id)).FullName;
        File.WriteAllText(Path.Combine(bundle, "config.json"), spec.ToJsonString());
        return bundle;
    }

    /// <summary>The linux.devices entry and the cgroup rule CRI writes for a device, with the host's numbers.</summary>
    private static async Task<(JsonObject, JsonObject)> DeviceAsync(string node)
    {
        var numbers = (await ChildProcess.RunAsync("stat", ["-c", "%t %T", node], s_toolTimeout)).EnsureSuccess("stat").Trim().Split(' ');
        var major = long.Parse(numbers[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var minor = long.Parse(numbers[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return (new JsonObject { ["path"] = node, ["type"] = "b", ["major"] = major, ["minor"] = minor, ["fileMode"] = 432, ["uid"] = 0, ["gid"] = 0 },
            new JsonObject { ["allow"] = true, ["type"] = "b", ["major"] = major, ["minor"] = minor, ["access"] = "rwm" });
    }

    private static string BusyboxRootfs(string rootfs, params string[] applets)
    {
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in applets)
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        foreach (var folder in new[] { "proc", "sys", "dev", "tmp" })
            Directory.CreateDirectory(Path.Combine(rootfs, folder));
        return rootfs;
    }

    private int QemuPid() =>
        s.LeftoverProcesses().Where(p => p.Contains("qemu-system", StringComparison.Ordinal))
            .Select(p => int.Parse(p[..p.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture))
            .Single();

    private static bool HoldsOpen(int pid, string path) =>
        Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == path);
}
