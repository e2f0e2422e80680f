using System.Text;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;
using static Stencil.Cri.Tests.Conformance.ConformanceRun;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// The device part of CRI conformance (ContainerConfig.devices, what a device plugin asks for): host
/// block devices (loop devices over small files written by the test) with "rwm" and "r" permissions,
/// and character devices. Two subclasses run it with runc and with stencil.
/// </summary>
public abstract class DeviceConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private const string Known = "stencil-known-16";

    private CriClient Client => fixture.Client;

    protected CriContainerdFixture Fixture => fixture;

    protected string Handler => handler;

    protected ITestOutputHelper Output => output;

    private Task<CriPod> RunPodAsync(string name) =>
        CriPod.RunAsync(Client, CriConfig.Sandbox($"{name}-{handler}", fixture.LogDirectory($"{name}-{handler}")), handler);

    /// <summary>
    /// Two loop devices: /dev/xvdb with "rwm" (the container reads the known bytes and writes its own,
    /// which the host then finds in the backing file) and /dev/xvdc with "r" (reading works, writing is
    /// refused). Plus the host's /dev/null as /dev/mynull.
    /// </summary>
    [Fact]
    public Task Block_devices_read_write_and_read_only_and_dev_null_under_another_name() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-dev-").FullName;
        var loops = new List<string>();
        try
        {
            var writable = await LoopDeviceAsync(Path.Combine(dir, "rw.img"), loops);
            var readOnly = await LoopDeviceAsync(Path.Combine(dir, "ro.img"), loops);
            output.WriteLine($"{handler}: rw {writable}, ro {readOnly}");

            await using var pod = await RunPodAsync("dev-block");
            var config = Shell("block",
                "echo rw_type=$(stat -c %F /dev/xvdb); echo rw_read=$(head -c 16 /dev/xvdb);"
                + "printf container-wrote-16 | dd of=/dev/xvdb bs=512 seek=1 conv=notrunc,fsync 2>/dev/null; echo rw_write=$?;"
                + "echo rw_back=$(dd if=/dev/xvdb bs=512 skip=1 count=1 2>/dev/null | head -c 18);"
                + "echo ro_read=$(head -c 16 /dev/xvdc);"
                + "echo ro_write=$(printf x | dd of=/dev/xvdc conv=notrunc 2>&1 | head -n 1 | sed 's/^dd: //');"
                + "echo null_type=$(stat -c '%F %t:%T' /dev/mynull); echo data > /dev/mynull; echo null_write=$?; echo null_read=$(cat /dev/mynull | wc -c)");
            config.Devices.Add(new Device { HostPath = writable, ContainerPath = "/dev/xvdb", Permissions = "rwm" });
            config.Devices.Add(new Device { HostPath = readOnly, ContainerPath = "/dev/xvdc", Permissions = "r" });
            config.Devices.Add(new Device { HostPath = "/dev/null", ContainerPath = "/dev/mynull", Permissions = "rwm" });
            var (status, log) = await RunToExitAsync(Client, pod, config);
            output.WriteLine($"{handler}: exit {status.ExitCode}\n{log}");
            Assert.Equal(0, status.ExitCode);
            var seen = Parse(log);
            Assert.Equal("block special file", seen["rw_type"]);
            Assert.Equal(Known, seen["rw_read"]);
            Assert.Equal("0", seen["rw_write"]);
            Assert.Equal("container-wrote-16", seen["rw_back"]);
            Assert.Equal(Known, seen["ro_read"]);
            // runc: the cgroup device rule allows "r" only, so opening for writing is refused by the
            // device controller (EPERM) before the disk is reached.
            Assert.Equal("can't open '/dev/xvdc': Operation not permitted", seen["ro_write"]);
            Assert.Equal("character special file 1:3", seen["null_type"]);
            Assert.Equal("0", seen["null_write"]);
            Assert.Equal("0", seen["null_read"]);
            await pod.RemoveAsync();

            // The write reached the backing file; the read-only one is as it was.
            var rw = await File.ReadAllBytesAsync(Path.Combine(dir, "rw.img"));
            Assert.Equal("container-wrote-16", Encoding.ASCII.GetString(rw, 512, 18));
            var ro = await File.ReadAllBytesAsync(Path.Combine(dir, "ro.img"));
            Assert.All(ro.AsSpan(16, 1024 - 16).ToArray(), b => Assert.Equal(0, b));
            Assert.Equal(Known, Encoding.ASCII.GetString(ro, 0, 16));
        }
        finally
        {
            foreach (var loop in loops)
                await HostAsync("losetup", "-d", loop);
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>A host character device that only the host's kernel has (/dev/kvm, 10:232: the guest has
    /// no hardware virtualization to offer): what happens when a container asks for it. The pod stays
    /// usable either way.</summary>
    [Fact]
    public Task A_host_only_character_device() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var (refused, probe) = await ProbeCharDeviceAsync("dev-char", "/dev/kvm");
        AssertHostOnlyCharDevice(refused, probe);
    });

    /// <summary>The tun device (/dev/net/tun, 10:200), what a VPN container asks for: the same answer
    /// from both runtimes, the node is there and opens (reading an unattached tun fails with EBADFD,
    /// after the open succeeded). In the VM it is the guest's own, and opening it loads the guest's tun
    /// module on demand.</summary>
    [Fact]
    public Task The_tun_device_opens() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var (refused, probe) = await ProbeCharDeviceAsync("dev-tun", "/dev/net/tun");
        Assert.Null(refused);
        Assert.NotNull(probe);
        Assert.Equal("character special file a:c8", probe["dev_type"]);
        Assert.Contains("File descriptor in bad state", probe["dev_open"]);
    });

    /// <summary>Runs a container that is given host character device <paramref name="path"/> at the
    /// same path, prints its type and what reading it says; then checks the pod still runs containers.</summary>
    private async Task<(RpcException? Refused, Dictionary<string, string>? Probe)> ProbeCharDeviceAsync(string podName, string path)
    {
        Assert.True(File.Exists(path), $"the host has no {path}");
        await using var pod = await RunPodAsync(podName);
        var config = Shell("probe", $"echo dev_type=$(stat -c '%F %t:%T' {path}); cat {path} 2>&1 | sed 's/^/dev_open=/'; true");
        config.Devices.Add(new Device { HostPath = path, ContainerPath = path, Permissions = "rwm" });
        // CreateContainer only records the container in containerd: the runtime first sees the spec when
        // StartContainer creates the task, so a refusal comes from StartContainer.
        var id = await pod.CreateContainerAsync(config);
        Dictionary<string, string>? probe = null;
        RpcException? refused = null;
        try
        {
            await Client.StartContainerAsync(id);
            var status = await WaitForExitAsync(Client, id);
            var log = LogText(pod, config);
            output.WriteLine($"{handler}: exit {status.ExitCode}\n{log}");
            probe = Parse(log);
        }
        catch (RpcException e)
        {
            refused = e;
            var status = await Client.ContainerStatusAsync(id);
            output.WriteLine($"{handler}: StartContainer: {e.StatusCode} \"{e.Status.Detail}\"; then {status.State} {status.Reason} exit {status.ExitCode} \"{status.Message}\"");
        }

        // Either way the pod goes on running containers.
        var after = await pod.RunContainerAsync(Shell("after", "sleep 3600"));
        Assert.Equal(0, (await Client.ExecSyncAsync(after, ["true"], ExecTimeout)).ExitCode);
        await pod.RemoveAsync();
        return (refused, probe);
    }

    /// <param name="refused">The error StartContainer answered, or null if the container ran.</param>
    /// <param name="probe">What the container printed (dev_type, dev_open), or null if it never ran.</param>
    protected abstract void AssertHostOnlyCharDevice(RpcException? refused, Dictionary<string, string>? probe);

    /// <summary>A 1 MiB file that starts with <see cref="Known"/>, attached to a free loop device (recorded in <paramref name="loops"/>).</summary>
    private static async Task<string> LoopDeviceAsync(string file, List<string> loops)
    {
        var bytes = new byte[1024 * 1024];
        Encoding.ASCII.GetBytes(Known).CopyTo(bytes, 0);
        await File.WriteAllBytesAsync(file, bytes);
        var loop = (await HostAsync("losetup", "-f", "--show", file)).Trim();
        loops.Add(loop);
        return loop;
    }
}
