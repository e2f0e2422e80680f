using System.Text;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>`ctr run --device`: a host block device hot-plugged into the pod's VM, a host character device refused.</summary>
[Collection(StencilCollection.Name)]
public sealed class DeviceTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_loop_device_is_read_in_the_guest_under_its_path_with_the_guests_numbers()
    {
        const string pattern = "stencil-loop-ok!"; // 16 bytes at the start of a 1 MiB image
        var image = Path.Combine(s.Dir, "loop-e2e.img");
        var bytes = new byte[1024 * 1024];
        Encoding.ASCII.GetBytes(pattern).CopyTo(bytes, 0);
        File.WriteAllBytes(image, bytes);
        var loop = (await ChildProcess.RunAsync("losetup", ["-f", "--show", image], s_toolTimeout)).EnsureSuccess("losetup -f --show").Trim();
        var hostNumbers = await NumbersAsync(loop);
        try
        {
            var r = await s.Ctr("run", "--rm", "--runtime", R, "--device", loop, I, "e2e-dev",
                "sh", "-c", $"stat -c '%t:%T %F' {loop}; head -c 16 {loop}; echo");
            Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");
            var lines = r.Stdout.Replace("\r", "").Trim().Split('\n');
            Assert.Equal(pattern, lines[1]);
            // The node is the guest's virtio-blk disk, not the host's loop device (major 7).
            Assert.EndsWith(" block special file", lines[0]);
            Assert.NotEqual(hostNumbers, lines[0].Split(' ')[0]);
            Assert.DoesNotMatch("^7:", lines[0]);
        }
        finally
        {
            await ChildProcess.RunAsync("losetup", ["-d", loop], s_toolTimeout);
            File.Delete(image);
        }
        await Eventually.NothingLeftAsync(s);
        // Released: losetup -d took it away at once (a device QEMU still held would linger as autoclear).
        Assert.DoesNotContain(image, (await ChildProcess.RunAsync("losetup", ["-a"], s_toolTimeout)).Stdout);
    }

    [Fact]
    public async Task A_host_character_device_is_refused_by_name_before_any_VM_starts()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--device", "/dev/kmsg", I, "e2e-chardev", "true");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("character device /dev/kmsg (1:11) cannot be passed into a VM", r.Stderr);
        // containerd 1.x appends the status code's words; 2.x passes the code on (CRI sees InvalidArgument)
        // but ctr prints the message alone.
        if (s.Containerd.Version is { Major: < 2 })
            Assert.Contains("invalid argument", r.Stderr);
        await s.Ctr("containers", "rm", "e2e-chardev");
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task Ctr_privileged_gives_the_guests_devices_and_none_of_the_hosts()
    {
        // ctr --privileged lists every host device and allows all: the shim drops the host's, the agent adds the guest's.
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--privileged", I, "e2e-privileged",
            "sh", "-c", "find /dev -type c -o -type b | sort | tr '\\n' ' '");
        Assert.True(r.ExitCode == 0, $"ctr run --privileged: {r.Stderr}\n{s.Containerd.ReadLog()}");
        var devices = r.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(devices, d => d.StartsWith("/dev/vport", StringComparison.Ordinal));
        Assert.DoesNotContain("/dev/kvm", devices);
        foreach (var disk in Directory.GetFiles("/dev", "vd*"))
            Assert.DoesNotContain(disk, devices);
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>"7:3" as stat's %t:%T prints it (hexadecimal).</summary>
    private static async Task<string> NumbersAsync(string node) =>
        (await ChildProcess.RunAsync("stat", ["-c", "%t:%T", node], s_toolTimeout)).EnsureSuccess("stat").Trim();
}
