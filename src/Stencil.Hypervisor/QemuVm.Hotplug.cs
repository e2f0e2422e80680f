using System.Globalization;
using System.Text.RegularExpressions;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// Hot-plugged devices: serial ports, disks, NICs, vCPUs, memory; their backends, root ports and removal.
public sealed partial class QemuVm
{
    /// <summary>A virtio-serial port named <paramref name="portName"/> backed by a new listening unix socket.</summary>
    public Task<HotpluggedDevice> AddSerialPortAsync(string portName, string socketPath, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckName("port_name", portName);
        QemuOptionText.CheckSocketPath("socket_path", socketPath);
        return RunAsync(VmOperation.Hotplug, $"adding serial port {portName} to vm {Name}", _options.CommandTimeout, async ct =>
        {
            var id = NextId("port");
            var chardev = id + "-chr";
            await Qmp.ExecuteAsync(QmpCommands.ChardevAddUnixServer(chardev, socketPath), ct).ConfigureAwait(false);
            _ownedFiles.Add(socketPath);
            await DeviceAddOrUndoAsync(QmpCommands.DeviceAddSerialPort(id, DeviceIds.VirtioSerialBus, chardev, portName),
                QmpCommands.ChardevRemove(chardev), ct).ConfigureAwait(false);
            return Track(new HotpluggedDevice(id, DeviceKind.SerialPort, null, chardev));
        }, cancellationToken);
    }

    /// <summary>A raw image as virtio-blk on the lowest free root port.</summary>
    public Task<HotpluggedDevice> AddDiskAsync(DiskSpec disk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(disk);
        QemuOptionText.CheckPath("disk.path", disk.Path);
        if (disk.Serial is { } serial && (serial.Length > 20 || !SerialPattern().IsMatch(serial)))
            throw StencilException.InvalidArgument($"disk.serial = \"{serial}\": at most 20 ASCII letters, digits, '-' or '_'");
        // Before a checkpoint's device state is loaded, its disks go back in: only into a clone made to load one.
        var operation = Instance.LoadsDeviceState && State == VmState.Incoming ? VmOperation.PlugBeforeLoad : VmOperation.Hotplug;
        return RunAsync(operation, $"adding disk {disk.Path} to vm {Name}", _options.CommandTimeout, async ct =>
        {
            if (!File.Exists(disk.Path))
                throw StencilException.NotFound($"disk image {disk.Path} does not exist");
            var rootPort = AllocateRootPort(disk.RootPort);
            try
            {
                var id = NextId("disk");
                var node = id + "-node";
                var hostDevice = Stencil.Interop.Libc.IsBlockDevice(disk.Path);
                await Qmp.ExecuteAsync(QmpCommands.BlockdevAddRaw(node, disk.Path, disk.ReadOnly, hostDevice), ct).ConfigureAwait(false);
                await DeviceAddOrUndoAsync(QmpCommands.DeviceAddVirtioBlk(id, node, rootPort, disk.Serial), QmpCommands.BlockdevDel(node), ct)
                    .ConfigureAwait(false);
                return Track(new HotpluggedDevice(id, DeviceKind.Disk, rootPort, node));
            }
            catch
            {
                ReleaseRootPort(rootPort);
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>A virtio-net NIC on the lowest free root port, over a tap fd (passed with getfd) or user-mode networking.</summary>
    public Task<HotpluggedDevice> AddNetworkAsync(NetworkSpec network, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!MacPattern().IsMatch(network.MacAddress ?? ""))
            throw StencilException.InvalidArgument($"mac address \"{network.MacAddress}\": expected six hex octets like 52:54:00:12:34:56");
        if ((Convert.ToByte(network.MacAddress![..2], 16) & 1) != 0)
            throw StencilException.InvalidArgument($"mac address \"{network.MacAddress}\" is a multicast address");
        return RunAsync(VmOperation.Hotplug, $"adding a NIC ({network.MacAddress}) to vm {Name}", _options.CommandTimeout, async ct =>
        {
            var rootPort = AllocateRootPort();
            try
            {
                var id = NextId("net");
                var netdev = id + "-backend";
                if (network.TapFd is { } tapFd)
                {
                    var fdName = id + "-fd";
                    await Qmp.SendFdAsync(fdName, tapFd, ct).ConfigureAwait(false);
                    try
                    {
                        await Qmp.ExecuteAsync(QmpCommands.NetdevAddTap(netdev, fdName), ct).ConfigureAwait(false);
                    }
                    catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
                    {
                        await BestEffortAsync(() => Qmp.CloseFdAsync(fdName, CancellationToken.None)).ConfigureAwait(false);
                        throw;
                    }
                }
                else
                {
                    await Qmp.ExecuteAsync(QmpCommands.NetdevAddUser(netdev), ct).ConfigureAwait(false);
                }
                await DeviceAddOrUndoAsync(QmpCommands.DeviceAddVirtioNet(id, netdev, network.MacAddress.ToLowerInvariant(), rootPort),
                    QmpCommands.NetdevDel(netdev), ct).ConfigureAwait(false);
                return Track(new HotpluggedDevice(id, DeviceKind.Network, rootPort, netdev));
            }
            catch
            {
                ReleaseRootPort(rootPort);
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>One more vCPU: the lowest free socket from query-hotpluggable-cpus.</summary>
    public Task<HotpluggedDevice> AddCpuAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Hotplug, $"adding a vCPU to vm {Name}", _options.CommandTimeout, async ct =>
        {
            var slots = await Qmp.ExecuteAsync(QmpCommands.QueryHotpluggableCpus(), ct).ConfigureAwait(false);
            var free = HotpluggableCpus.LowestFree(slots)
                ?? throw new StencilException(ErrorKind.ResourceExhausted,
                    $"vm {Name} already has all {Description.Cpus.Max} vCPUs it may have (cpus.max = {Description.Cpus.Max})");
            var id = NextId("cpu");
            await Qmp.ExecuteAsync(QmpCommands.DeviceAddCpu(free.Type, id, free.Properties), ct).ConfigureAwait(false);
            return Track(new HotpluggedDevice(id, DeviceKind.Cpu, null, null));
        }, cancellationToken);

    /// <summary>A pc-dimm of <paramref name="sizeMiB"/> backed by anonymous RAM.</summary>
    public Task<HotpluggedDevice> AddMemoryAsync(int sizeMiB, CancellationToken cancellationToken = default)
    {
        if (sizeMiB < 1)
            throw StencilException.InvalidArgument($"memory size {sizeMiB} MiB: must be positive");
        if (!Description.Memory.HotplugEnabled)
        {
            throw StencilException.FailedPrecondition(
                $"vm {Name} has no memory hotplug (memory.hotplug_slots = {Description.Memory.HotplugSlots}, memory.max_mib = {Description.Memory.MaxMiB})");
        }
        return RunAsync(VmOperation.Hotplug, $"adding {sizeMiB} MiB of memory to vm {Name}", _options.CommandTimeout, async ct =>
        {
            var id = NextId("dimm");
            var backend = id + "-mem";
            await Qmp.ExecuteAsync(QmpCommands.ObjectAddMemoryBackendRam(backend, (long)sizeMiB * 1024 * 1024), ct).ConfigureAwait(false);
            await DeviceAddOrUndoAsync(QmpCommands.DeviceAddPcDimm(id, backend), QmpCommands.ObjectDel(backend), ct).ConfigureAwait(false);
            return Track(new HotpluggedDevice(id, DeviceKind.Memory, null, backend));
        }, cancellationToken);
    }

    /// <summary>
    /// device_del, then wait for QEMU's DEVICE_DELETED and remove the host-side backend. PCI, CPU and
    /// memory unplug need the guest to cooperate; without it this fails after the unplug timeout and the
    /// device stays tracked (a later DEVICE_DELETED is not acted on).
    /// </summary>
    public Task RemoveDeviceAsync(HotpluggedDevice device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return RunAsync(VmOperation.Unplug, $"removing {device.Kind} {device.Id} from vm {Name}", _options.CommandTimeout + _options.UnplugTimeout, async ct =>
        {
            lock (_gate)
            {
                if (!_devices.TryGetValue(device.Id, out var known) || known != device)
                    throw StencilException.NotFound($"vm {Name} has no hot-plugged device \"{device.Id}\"");
            }
            var deleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_deletions)
                _deletions[device.Id] = deleted;
            try
            {
                await Qmp.ExecuteAsync(QmpCommands.DeviceDel(device.Id), ct).ConfigureAwait(false);
                try
                {
                    await deleted.Task.WaitAsync(_options.UnplugTimeout, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw new StencilException(ErrorKind.DeadlineExceeded,
                        $"vm {Name}: the guest did not release {device.Kind} {device.Id} within {Seconds(_options.UnplugTimeout)} (unplugging it needs the guest's cooperation)");
                }
            }
            finally
            {
                lock (_deletions)
                    _deletions.Remove(device.Id);
            }

            if (BackendRemoval(device) is { } removeBackend)
                await Qmp.ExecuteAsync(removeBackend, ct).ConfigureAwait(false);
            lock (_gate)
            {
                _devices.Remove(device.Id);
                if (device.RootPort is { } port)
                    _rootPorts.Release(port);
            }
            return true;
        }, cancellationToken);
    }

    /// <summary>The command that removes a device's host-side backend once the device is gone; null when it has none.</summary>
    private static QmpCommand? BackendRemoval(HotpluggedDevice device) => device.Kind switch
    {
        DeviceKind.Disk => QmpCommands.BlockdevDel(device.BackendId!),
        DeviceKind.Network => QmpCommands.NetdevDel(device.BackendId!),
        DeviceKind.SerialPort => QmpCommands.ChardevRemove(device.BackendId!),
        DeviceKind.Memory => QmpCommands.ObjectDel(device.BackendId!),
        _ => null,
    };

    /// <summary>device_add; if QEMU refuses, undo the backend created for it, then rethrow.</summary>
    private async Task DeviceAddOrUndoAsync(QmpCommand deviceAdd, QmpCommand undoBackend, CancellationToken cancellationToken)
    {
        try
        {
            await Qmp.ExecuteAsync(deviceAdd, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
        {
            await BestEffortAsync(() => Qmp.ExecuteAsync(undoBackend, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    private string NextId(string prefix) =>
        prefix + Interlocked.Increment(ref _nextDeviceNumber).ToString(CultureInfo.InvariantCulture);

    private HotpluggedDevice Track(HotpluggedDevice device)
    {
        lock (_gate)
            _devices[device.Id] = device;
        return device;
    }

    private string AllocateRootPort(string? wanted = null)
    {
        lock (_gate)
        {
            if (wanted is null)
                return _rootPorts.Allocate(Name);
            try
            {
                return _rootPorts.Allocate(Name, wanted);
            }
            catch (ArgumentException ex)
            {
                throw new StencilException(ErrorKind.InvalidArgument, $"vm {Name}: {ex.Message}", ex);
            }
        }
    }

    private void ReleaseRootPort(string rootPort)
    {
        lock (_gate)
            _rootPorts.Release(rootPort);
    }

    [GeneratedRegex("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SerialPattern();
}
