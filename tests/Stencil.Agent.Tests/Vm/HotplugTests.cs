using System.Diagnostics;
using System.Net;
using System.Text;
using Stencil.Agent.Client;
using Stencil.Hypervisor;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>What the host hot-plugs, brought into use through the agent: a NIC, a disk, a vCPU, memory.</summary>
public sealed class HotplugTests(HotplugVmFixture vm, ITestOutputHelper output) : IClassFixture<HotplugVmFixture>
{
    private const string Mac = "52:54:00:12:34:56";

    private AgentClient Agent => vm.Agent;

    [Fact]
    public async Task Nic_gets_address_and_routes()
    {
        await vm.Vm.Qemu.AddNetworkAsync(NetworkSpec.User(Mac));
        // The device shows up in the guest a moment after device_add: the agent waits for the MAC.
        var eth = await Agent.UpdateInterfaceAsync(new NetworkInterface("", Mac, 1400,
            [new InterfaceAddress(IPAddress.Parse("10.0.2.15"), 24)], Up: true));
        Assert.Equal(1400, eth.Mtu);
        Assert.True(eth.Up);
        Assert.Contains(new InterfaceAddress(IPAddress.Parse("10.0.2.15"), 24), eth.Addresses);

        var routes = await Agent.UpdateRoutesAsync([new NetworkRoute("default", "10.0.2.2", eth.Name)]);
        Assert.Single(routes);
        var shown = (await vm.RunAsync("routes", "ip", "route")).Stdout;
        Assert.Contains("default via 10.0.2.2", shown);
        // Replacing the routes removes the earlier ones.
        await Agent.UpdateRoutesAsync([new NetworkRoute("10.9.0.0/16", "10.0.2.2", eth.Name)]);
        shown = (await vm.RunAsync("routes2", "ip", "route")).Stdout;
        Assert.DoesNotContain("default", shown);
        Assert.Contains("10.9.0.0/16 via 10.0.2.2", shown);

        var all = await Agent.ListInterfacesAsync();
        Assert.Contains(all, i => i.Name == "lo");
        Assert.Contains(all, i => i.HardwareAddress == Mac && i.Addresses.Contains(new InterfaceAddress(IPAddress.Parse("10.0.2.15"), 24)));

        var ex = await Assert.ThrowsAsync<StencilException>(() => Agent.UpdateInterfaceAsync(new NetworkInterface("nosuch0", "", 0, [], true)));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
    }

    [Fact]
    public async Task Disk_by_serial_is_mounted_into_the_container()
    {
        var content = Path.Combine(vm.ShareDir, "..", Path.GetFileName(vm.ShareDir) + "-disk");
        var image = content + ".img";
        Directory.CreateDirectory(content);
        try
        {
            File.WriteAllText(Path.Combine(content, "hello.txt"), "from the disk\n");
            var mkfs = Prerequisite.Executable("mkfs.ext4", "apt-get install e2fsprogs");
            using (var p = Process.Start(mkfs, ["-q", "-F", "-d", content, image, "16M"]))
            {
                await p.WaitForExitAsync();
                Assert.Equal(0, p.ExitCode);
            }
            await vm.Vm.Qemu.AddDiskAsync(new DiskSpec(image) { Serial = "vol-1" });

            var spec = TestSpecs.Spec(["cat", "/data/hello.txt"]);
            spec["mounts"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject
            {
                ["destination"] = "/data", ["type"] = "bind", ["source"] = "volumes/data", ["options"] = new System.Text.Json.Nodes.JsonArray("rbind", "ro"),
            });
            await Agent.CreateContainerAsync(new ContainerConfig("disk", Encoding.UTF8.GetBytes(spec.ToJsonString()),
                [StorageMount.Shared("rootfs", "rootfs"), StorageMount.BlockBySerial("vol-1", "ext4", "volumes/data", ["ro"])]));
            try
            {
                await Agent.StartContainerAsync("disk");
                Assert.Equal("from the disk\n", await vm.ReadAllAsync("disk"));
                Assert.Equal(0, (await vm.WaitAsync("disk")).ExitCode);
            }
            finally
            {
                await Agent.RemoveContainerAsync("disk", force: true);
            }
        }
        finally
        {
            Directory.Delete(content, recursive: true);
            // QEMU keeps its open file; the name goes now.
            File.Delete(image);
        }
    }

    [Fact]
    public async Task Hot_added_cpu_and_memory_are_onlined()
    {
        var before = await Agent.GetGuestDetailsAsync();
        await vm.Vm.Qemu.AddCpuAsync();
        var cpus = await Agent.OnlineCpuMemAsync(wantCpus: 2, cpuOnly: true, timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(2, cpus.CpusOnline);
        output.WriteLine($"after vCPU hotplug: {cpus}");

        await vm.Vm.Qemu.AddMemoryAsync(256);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        CpuMemOnlineResult memory;
        do
        {
            memory = await Agent.OnlineCpuMemAsync();
            if (memory.MemoryTotalBytes > before.MemoryTotalBytes)
                break;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        output.WriteLine($"after memory hotplug: {memory}");
        Assert.InRange(memory.MemoryTotalBytes, before.MemoryTotalBytes + (200UL << 20), before.MemoryTotalBytes + (256UL << 20));
    }
}
