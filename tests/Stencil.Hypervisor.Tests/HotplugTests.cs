using System.Diagnostics;
using System.Text.Json;
using Stencil.Hypervisor.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Hypervisor.Tests;

/// <summary>Hotplug on a running guest-less VM, confirmed with QEMU's own queries.</summary>
[Collection(QemuCollection.Name)]
public sealed class HotplugTests(ITestOutputHelper output)
{
    private static async Task<JsonElement> QueryAsync(QemuVm vm, string command, Action<Utf8JsonWriter>? arguments = null) =>
        await vm.Qmp.ExecuteAsync(command, arguments);

    /// <summary>
    /// The qdev ids of the devices behind root port <paramref name="rootPort"/>, from query-pci. QEMU
    /// lists a bridge's devices by bus number, which the firmware assigns while it enumerates PCI
    /// (~0.1 s after start under TCG): until then the bridge shows secondary bus 0 and no devices.
    /// </summary>
    private static async Task<List<string>> DevicesBehindAsync(QemuVm vm, string rootPort)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var pci = await QueryAsync(vm, "query-pci");
            var bridge = pci[0].GetProperty("devices").EnumerateArray()
                .Single(d => d.GetProperty("qdev_id").GetString() == rootPort).GetProperty("pci_bridge");
            if (bridge.GetProperty("bus").GetProperty("secondary").GetInt32() != 0)
            {
                return bridge.TryGetProperty("devices", out var devices)
                    ? devices.EnumerateArray().Select(d => d.GetProperty("qdev_id").GetString()!).ToList()
                    : [];
            }
            Assert.True(DateTime.UtcNow < deadline, "the firmware did not number the PCI bridges within 10 s");
            await Task.Delay(20);
        }
    }

    private static string RawImage(QemuScope scope, string name)
    {
        var path = scope.PathOf(name);
        using (var file = File.Create(path))
            file.SetLength(16 * 1024 * 1024);
        return path;
    }

    [Fact]
    public async Task Disk_lands_on_a_root_port_with_its_serial()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));

        var stopwatch = Stopwatch.StartNew();
        var disk = await vm.AddDiskAsync(new DiskSpec(RawImage(scope, "disk.img")) { Serial = "stencil-vol-1" });
        output.WriteLine($"disk hotplug: {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(DeviceKind.Disk, disk.Kind);
        Assert.Equal("rp0", disk.RootPort);
        Assert.Equal([disk.Id], await DevicesBehindAsync(vm, "rp0"));
        var block = (await QueryAsync(vm, "query-block")).EnumerateArray()
            .Single(b => b.GetProperty("qdev").GetString() == $"/machine/peripheral/{disk.Id}/virtio-backend");
        Assert.Equal(scope.PathOf("disk.img"), block.GetProperty("inserted").GetProperty("file").GetString());
        var serial = await QueryAsync(vm, "qom-get", w =>
        {
            w.WriteString("path", "/machine/peripheral/" + disk.Id);
            w.WriteString("property", "serial");
        });
        Assert.Equal("stencil-vol-1", serial.GetString());
        Assert.Equal(["rp1", "rp2", "rp3"], vm.FreeRootPorts);
    }

    [Fact]
    public async Task A_refused_device_add_undoes_its_backend_and_frees_the_port()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        var image = RawImage(scope, "disk.img");
        await vm.AddDiskAsync(new DiskSpec(image));

        // QEMU refuses a second writer on the same image (image locking) at device_add.
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.AddDiskAsync(new DiskSpec(image)));
        output.WriteLine(ex.Message);
        Assert.Contains("'device_add'", ex.Message);
        Assert.Contains("lock", ex.Message);
        Assert.Equal(["rp1", "rp2", "rp3"], vm.FreeRootPorts);
        var nodes = (await QueryAsync(vm, "query-named-block-nodes")).EnumerateArray()
            .Select(n => n.GetProperty("node-name").GetString()).ToList();
        Assert.DoesNotContain(nodes, n => n!.StartsWith("disk2", StringComparison.Ordinal));

        var missing = await Assert.ThrowsAsync<StencilException>(() => vm.AddDiskAsync(new DiskSpec(scope.PathOf("nope.img"))));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.Equal(["rp1", "rp2", "rp3"], vm.FreeRootPorts);
    }

    [Fact]
    public async Task Nic_over_a_tap_fd_from_another_network_namespace()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        using var tap = NetnsTap.Create();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));

        var stopwatch = Stopwatch.StartNew();
        var nic = await vm.AddNetworkAsync(NetworkSpec.Tap(tap.Fd, "52:54:00:AB:CD:01"));
        output.WriteLine($"tap NIC hotplug (getfd + netdev_add + device_add): {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(DeviceKind.Network, nic.Kind);
        Assert.Equal([nic.Id], await DevicesBehindAsync(vm, nic.RootPort!));
        var filter = await QueryAsync(vm, "query-rx-filter", w => w.WriteString("name", nic.Id));
        Assert.Equal("52:54:00:ab:cd:01", filter[0].GetProperty("main-mac").GetString());

        // QEMU holds its own copy of the tap fd: it has the tap open in its fd table.
        var qemuFds = Directory.EnumerateFiles($"/proc/{vm.ProcessId}/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } })
            .Count(target => target == "/dev/net/tun");
        Assert.Equal(1, qemuFds);
    }

    [Fact]
    public async Task Nic_over_user_networking()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        var nic = await vm.AddNetworkAsync(NetworkSpec.User("52:54:00:00:00:02"));
        Assert.Equal([nic.Id], await DevicesBehindAsync(vm, nic.RootPort!));

        var bad = await Assert.ThrowsAsync<StencilException>(() => vm.AddNetworkAsync(NetworkSpec.User("01:00:5e:00:00:01")));
        Assert.Equal(ErrorKind.InvalidArgument, bad.Kind);
        Assert.Contains("multicast", bad.Message);
    }

    [Fact]
    public async Task Vcpus_up_to_the_maximum_then_resource_exhausted()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        Assert.Equal(1, await vm.QueryCpuCountAsync());

        var stopwatch = Stopwatch.StartNew();
        var cpu = await vm.AddCpuAsync();
        output.WriteLine($"vCPU hotplug: {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal(DeviceKind.Cpu, cpu.Kind);
        Assert.Equal(2, await vm.QueryCpuCountAsync());
        await vm.AddCpuAsync();
        await vm.AddCpuAsync();
        Assert.Equal(4, await vm.QueryCpuCountAsync());

        var sockets = (await QueryAsync(vm, "query-cpus-fast")).EnumerateArray()
            .Select(c => c.GetProperty("props").GetProperty("socket-id").GetInt32()).Order();
        Assert.Equal([0, 1, 2, 3], sockets);

        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.AddCpuAsync());
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.Contains("cpus.max = 4", ex.Message);
    }

    [Fact]
    public async Task Memory_dimm_shows_in_query_memory_devices()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));

        var stopwatch = Stopwatch.StartNew();
        var dimm = await vm.AddMemoryAsync(256);
        output.WriteLine($"memory hotplug (256 MiB): {stopwatch.ElapsedMilliseconds} ms");

        var device = (await QueryAsync(vm, "query-memory-devices")).EnumerateArray().Single();
        Assert.Equal("dimm", device.GetProperty("type").GetString());
        Assert.Equal(dimm.Id, device.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(256L * 1024 * 1024, device.GetProperty("data").GetProperty("size").GetInt64());

        // maxmem is 640 MiB with 128 at boot: 256 more fit, 512 more do not.
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.AddMemoryAsync(512));
        output.WriteLine(ex.Message);
        Assert.Contains("'device_add'", ex.Message);
        var backends = (await QueryAsync(vm, "query-memdev")).EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(2, backends.Count); // boot memory and the first dimm; the refused one was undone
    }

    [Fact]
    public async Task Memory_hotplug_needs_slots_in_the_description()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small() with { Memory = MemoryLayout.Fixed(128) }, scope.ColdBoot("vm"));
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.AddMemoryAsync(128));
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Contains("memory.hotplug_slots = 0", ex.Message);
    }

    [Fact]
    public async Task Serial_port_is_added_and_removed()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));

        var socket = scope.PathOf("vm/extra.sock");
        var stopwatch = Stopwatch.StartNew();
        var port = await vm.AddSerialPortAsync("stencil.extra", socket);
        output.WriteLine($"serial port hotplug: {stopwatch.ElapsedMilliseconds} ms");
        Assert.True(File.Exists(socket), "the port's socket should be listening");
        var chardevs = (await QueryAsync(vm, "query-chardev")).EnumerateArray().Select(c => c.GetProperty("label").GetString()).ToList();
        Assert.Contains(port.BackendId, chardevs);

        await vm.RemoveDeviceAsync(port);
        chardevs = (await QueryAsync(vm, "query-chardev")).EnumerateArray().Select(c => c.GetProperty("label").GetString()).ToList();
        Assert.DoesNotContain(port.BackendId, chardevs);

        var again = await Assert.ThrowsAsync<StencilException>(() => vm.RemoveDeviceAsync(port));
        Assert.Equal(ErrorKind.NotFound, again.Kind);
    }

    [Fact]
    public async Task Unplugging_a_pci_device_without_a_guest_times_out_and_keeps_it()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope(new QemuVmOptions { UnplugTimeout = TimeSpan.FromMilliseconds(300) });
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        var disk = await vm.AddDiskAsync(new DiskSpec(RawImage(scope, "disk.img")));

        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.RemoveDeviceAsync(disk));
        Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);
        Assert.Contains($"the guest did not release Disk {disk.Id}", ex.Message);
        Assert.Equal(["rp1", "rp2", "rp3"], vm.FreeRootPorts);
    }

    [Fact]
    public async Task Root_ports_run_out()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small() with { HotplugRootPorts = 2 }, scope.ColdBoot("vm"));
        await vm.AddNetworkAsync(NetworkSpec.User("52:54:00:00:00:01"));
        await vm.AddNetworkAsync(NetworkSpec.User("52:54:00:00:00:02"));
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.AddNetworkAsync(NetworkSpec.User("52:54:00:00:00:03")));
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.Equal("vm vm has no free pcie-root-port: all 2 hold a device", ex.Message);
    }

    [Fact]
    public async Task Hotplug_is_refused_before_restore()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var clone = await scope.StartAsync(TestDescriptions.Small(), scope.Clone("clone", scope.SparseMemoryFile("memory", 128)));
        var ex = await Assert.ThrowsAsync<StencilException>(() => clone.AddCpuAsync());
        Assert.Equal("cannot hot-plug a device into vm clone in incoming state", ex.Message);
    }
}
