using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

/// <summary>
/// One QEMU VM and the operations on it, behind an explicit state machine (<see cref="VmState"/>):
/// start, pause/resume, save/restore (x-ignore-shared), hotplug/unplug, shutdown/kill. Operations run
/// one at a time; an illegal move fails with FailedPrecondition; when QEMU dies, the error says why
/// ("qemu exited with code 1: ..."). Dispose kills QEMU and removes its sockets.
/// </summary>
public sealed partial class QemuVm : IAsyncDisposable
{
    /// <summary>getfd name of the state file during a save or restore; consumed by the migration.</summary>
    private const string MigrationFdName = "stencil-migration";

    /// <summary>After QMP drops, how long to wait for QEMU to exit so its output can explain why.</summary>
    private static readonly TimeSpan s_exitExplainGrace = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan s_qmpConnectRetry = TimeSpan.FromMilliseconds(5);

    private readonly QemuVmOptions _options;
    private readonly SemaphoreSlim _operation = new(1, 1);
    private readonly Lock _gate = new();
    private readonly RootPortAllocator _rootPorts;
    private readonly Dictionary<string, HotpluggedDevice> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _deletions = new(StringComparer.Ordinal);
    private readonly List<string> _ownedSockets = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private VmState _state = VmState.Created;
    private bool _stopRequested;
    private QemuProcess? _process;
    private QmpClient? _qmp;
    private Task _eventPump = Task.CompletedTask;
    private int _nextDeviceNumber;
    private int _disposed;

    private QemuVm(VmDescription description, VmInstance instance, QemuVmOptions options)
    {
        Description = description;
        Instance = instance;
        _options = options;
        CommandLine = QemuCommandLine.Build(description, instance);
        _rootPorts = new RootPortAllocator(description.HotplugRootPorts);
        _ownedSockets.Add(instance.Paths.QmpSocket);
        _ownedSockets.Add(instance.Paths.AgentSocket);
        if (instance.Paths.ConsoleSocket is { } console)
            _ownedSockets.Add(console);
        if (instance.Paths.PidFile is { } pidFile)
            _ownedSockets.Add(pidFile);
    }

    public VmDescription Description { get; }

    public VmInstance Instance { get; }

    public string Name => Instance.Name;

    /// <summary>The argv QEMU is (or will be) started with, without the binary.</summary>
    public IReadOnlyList<string> CommandLine { get; }

    public VmState State
    {
        get
        {
            lock (_gate)
                return _state;
        }
    }

    /// <summary>QEMU's pid once started.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>QEMU's version from the QMP greeting ("7.2.22"), once started.</summary>
    public string? QemuVersion => _qmp?.QemuVersion;

    /// <summary>Completes when QEMU has exited (or the VM was disposed without ever starting).</summary>
    public Task Exited => _exited.Task;

    /// <summary>
    /// Every QMP event QEMU sends (SHUTDOWN, GUEST_PANICKED, VSERPORT_CHANGE when the guest opens a
    /// port, ...). Raised on the event reader: handlers must be quick and must not throw.
    /// </summary>
    public event Action<QmpEvent>? EventReceived;

    /// <summary>Root ports with no device on them, lowest first.</summary>
    public IReadOnlyList<string> FreeRootPorts
    {
        get
        {
            lock (_gate)
                return _rootPorts.Free;
        }
    }

    /// <summary>The raw QMP connection (tests and diagnostics); commands sent here bypass the state machine.</summary>
    internal QmpClient Qmp => _qmp ?? throw StencilException.FailedPrecondition($"vm {Name} has not been started");

    /// <summary>Validates and builds the command line; starts nothing (state Created).</summary>
    public static QemuVm Create(VmDescription description, VmInstance instance, QemuVmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(instance);
        return new QemuVm(description, instance, options ?? new QemuVmOptions());
    }

    /// <summary>Create + <see cref="StartAsync"/>; the VM is disposed if the start fails.</summary>
    public static async Task<QemuVm> LaunchAsync(VmDescription description, VmInstance instance, QemuVmOptions? options = null, CancellationToken cancellationToken = default)
    {
        var vm = Create(description, instance, options);
        try
        {
            await vm.StartAsync(cancellationToken).ConfigureAwait(false);
            return vm;
        }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts QEMU and connects QMP. A cold boot or template is then Running; a clone is Incoming
    /// (waiting for <see cref="RestoreAsync"/>). If QEMU exits early, the error carries its output.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VmState target;
            lock (_gate)
                target = VmLifecycle.Next(_state, Instance.Role == VmRole.Clone ? VmOperation.StartIncoming : VmOperation.Start, Name);
            CheckMemoryFile();

            var process = QemuProcess.Start(_options.QemuBinary, CommandLine, _options.OutputTailBytes);
            bool stoppedMeanwhile;
            lock (_gate)
            {
                // KillAsync does not wait for the operation lock: it may have run before QEMU existed.
                stoppedMeanwhile = _stopRequested;
                if (!stoppedMeanwhile)
                    _process = process;
            }
            if (stoppedMeanwhile)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                throw StencilException.FailedPrecondition($"vm {Name} was stopped while starting");
            }
            _ = WatchExitAsync(process);
            try
            {
                _qmp = await ConnectQmpAsync(process, cancellationToken).ConfigureAwait(false);
                _eventPump = PumpEventsAsync(_qmp);
                var status = await QueryStatusCoreAsync(cancellationToken).ConfigureAwait(false);
                var expected = target == VmState.Incoming ? "inmigrate" : "running";
                if (status != expected)
                    throw StencilException.Internal($"vm {Name} started with status \"{status}\", expected \"{expected}\"");
                Move(VmState.Created, target);
            }
            catch (Exception ex)
            {
                var explained = ex is StencilException { Kind: ErrorKind.Unavailable } se
                    ? await ExplainAsync($"starting vm {Name}", se).ConfigureAwait(false)
                    : ex;
                await StopProcessAsync(graceful: false).ConfigureAwait(false);
                if (ReferenceEquals(explained, ex))
                    throw;
                throw explained;
            }
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// A template writes guest RAM into a new file that clones will map: reusing a file would keep
    /// stale pages, and rewriting one that running clones map corrupts them. A clone maps the
    /// template's file: without it QEMU would silently create an empty one and the guest would wake
    /// up to zeroed memory.
    /// </summary>
    private void CheckMemoryFile()
    {
        var file = Instance.MemoryFile;
        if (Instance.Role == VmRole.Template && file is not null && Path.Exists(file))
        {
            throw StencilException.AlreadyExists(
                $"template memory file {file} already exists: a template needs a fresh file (unlink the old one; running clones keep its inode)");
        }
        if (Instance.Role == VmRole.Clone && file is not null && !File.Exists(file))
            throw StencilException.NotFound($"template memory file {file} does not exist: a clone maps the memory its template saved");
    }

    /// <summary>QMP stop: Running -> Paused.</summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Pause, $"pausing vm {Name}", _options.CommandTimeout, async ct =>
        {
            await Qmp.ExecuteAsync("stop", null, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>QMP cont: Paused -> Running.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Resume, $"resuming vm {Name}", _options.CommandTimeout, async ct =>
        {
            await Qmp.ExecuteAsync("cont", null, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>QEMU's run status ("running", "paused", "inmigrate", "postmigrate", ...).</summary>
    public Task<string> QueryStatusAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Query, $"querying vm {Name}", _options.CommandTimeout, QueryStatusCoreAsync, cancellationToken);

    /// <summary>vCPUs QEMU currently has (boot plus hot-added).</summary>
    public Task<int> QueryCpuCountAsync(CancellationToken cancellationToken = default) =>
        RunAsync(VmOperation.Query, $"querying vm {Name}", _options.CommandTimeout, async ct =>
        {
            var cpus = await Qmp.ExecuteAsync("query-cpus-fast", null, ct).ConfigureAwait(false);
            return cpus.ValueKind == JsonValueKind.Array ? cpus.GetArrayLength() : 0;
        }, cancellationToken);

    /// <summary>
    /// Saves the device state to <paramref name="stateFile"/> with x-ignore-shared: RAM in a shared
    /// memory file (a template's) is not copied, only referenced. Paused -> Saved. The file is written
    /// by QEMU through an fd we pass it (no shell, no helper process); a failed save deletes it.
    /// </summary>
    public Task SaveAsync(string stateFile, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckPath("state_file", stateFile);
        var action = $"saving vm {Name} to {stateFile}";
        return RunAsync(VmOperation.Save, action, _options.MigrationTimeout, async ct =>
        {
            await SetIgnoreSharedAsync(ct).ConfigureAwait(false);
            var file = CreateStateFile(stateFile);
            try
            {
                using (file)
                    await Qmp.SendFdAsync(MigrationFdName, file.SafeFileHandle, ct).ConfigureAwait(false);
                await MigrateWithFdAsync("migrate", ct).ConfigureAwait(false);
                await WaitForMigrationAsync(action, ct).ConfigureAwait(false);
            }
            catch
            {
                TryDelete(stateFile);
                throw;
            }
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Loads a saved state into a clone started with -incoming defer (x-ignore-shared on, like the
    /// save). Incoming -> Paused: send <see cref="ResumeAsync"/> to run it. If the state does not
    /// match this VM, QEMU exits and the error carries QEMU's reason.
    /// </summary>
    public Task RestoreAsync(string stateFile, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckPath("state_file", stateFile);
        var action = $"restoring vm {Name} from {stateFile}";
        return RunAsync(VmOperation.Restore, action, _options.MigrationTimeout, async ct =>
        {
            using (var file = OpenStateFile(stateFile))
            {
                await SetIgnoreSharedAsync(ct).ConfigureAwait(false);
                await Qmp.SendFdAsync(MigrationFdName, file, ct).ConfigureAwait(false);
            }
            await MigrateWithFdAsync("migrate-incoming", ct).ConfigureAwait(false);
            await WaitForMigrationAsync(action, ct).ConfigureAwait(false);
            // The saved run state comes back with the state: a template saved paused restores paused.
            var status = await QueryStatusCoreAsync(ct).ConfigureAwait(false);
            if (status != "paused")
                throw StencilException.Internal($"{action}: qemu reports status \"{status}\" after loading, expected \"paused\"");
            return true;
        }, cancellationToken);
    }

    /// <summary>QMP quit, then SIGKILL if QEMU has not exited within the shutdown timeout. Any state but Stopped.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (_state == VmState.Stopped && _process is { WasKilled: false } p && UnexpectedExit())
                    throw p.ExitError($"cannot shut down vm {Name}");
                VmLifecycle.Next(_state, VmOperation.Shutdown, Name);
            }
            await StopProcessAsync(graceful: true).ConfigureAwait(false);
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>SIGKILL and reap; allowed in every state, never waits behind a running operation.</summary>
    public async Task KillAsync()
    {
        await StopProcessAsync(graceful: false).ConfigureAwait(false);
    }

    /// <summary>A virtio-serial port named <paramref name="portName"/> backed by a new listening unix socket.</summary>
    public Task<HotpluggedDevice> AddSerialPortAsync(string portName, string socketPath, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckName("port_name", portName);
        QemuOptionText.CheckSocketPath("socket_path", socketPath);
        return RunAsync(VmOperation.Hotplug, $"adding serial port {portName} to vm {Name}", _options.CommandTimeout, async ct =>
        {
            var id = NextId("port");
            var chardev = id + "-chr";
            await Qmp.ExecuteAsync("chardev-add", w =>
            {
                w.WriteString("id", chardev);
                w.WriteStartObject("backend");
                w.WriteString("type", "socket");
                w.WriteStartObject("data");
                w.WriteStartObject("addr");
                w.WriteString("type", "unix");
                w.WriteStartObject("data");
                w.WriteString("path", socketPath);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteBoolean("server", true);
                w.WriteBoolean("wait", false);
                w.WriteEndObject();
                w.WriteEndObject();
            }, ct).ConfigureAwait(false);
            lock (_gate)
                _ownedSockets.Add(socketPath);
            await DeviceAddOrUndoAsync(w =>
            {
                w.WriteString("driver", "virtserialport");
                w.WriteString("id", id);
                w.WriteString("bus", DeviceIds.VirtioSerialBus);
                w.WriteString("chardev", chardev);
                w.WriteString("name", portName);
            }, () => Qmp.ExecuteAsync("chardev-remove", w => w.WriteString("id", chardev), CancellationToken.None), ct).ConfigureAwait(false);
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
        return RunAsync(VmOperation.Hotplug, $"adding disk {disk.Path} to vm {Name}", _options.CommandTimeout, async ct =>
        {
            if (!File.Exists(disk.Path))
                throw StencilException.NotFound($"disk image {disk.Path} does not exist");
            var rootPort = AllocateRootPort();
            try
            {
                var id = NextId("disk");
                var node = id + "-node";
                await Qmp.ExecuteAsync("blockdev-add", w =>
                {
                    w.WriteString("driver", "raw");
                    w.WriteString("node-name", node);
                    w.WriteBoolean("read-only", disk.ReadOnly);
                    w.WriteStartObject("file");
                    // QEMU's "file" driver refuses anything but a regular file; a host block device
                    // (a loop device, a disk given to a container) needs "host_device".
                    w.WriteString("driver", Internal.Interop.Libc.IsBlockDevice(disk.Path) ? "host_device" : "file");
                    w.WriteString("filename", disk.Path);
                    w.WriteBoolean("read-only", disk.ReadOnly);
                    w.WriteEndObject();
                }, ct).ConfigureAwait(false);
                await DeviceAddOrUndoAsync(w =>
                {
                    w.WriteString("driver", "virtio-blk-pci");
                    w.WriteString("id", id);
                    w.WriteString("drive", node);
                    w.WriteString("bus", rootPort);
                    if (disk.Serial is { } s)
                        w.WriteString("serial", s);
                }, () => Qmp.ExecuteAsync("blockdev-del", w => w.WriteString("node-name", node), CancellationToken.None), ct).ConfigureAwait(false);
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
                        await Qmp.ExecuteAsync("netdev_add", w =>
                        {
                            w.WriteString("type", "tap");
                            w.WriteString("id", netdev);
                            w.WriteString("fd", fdName);
                        }, ct).ConfigureAwait(false);
                    }
                    catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
                    {
                        await BestEffortAsync(() => Qmp.CloseFdAsync(fdName, CancellationToken.None)).ConfigureAwait(false);
                        throw;
                    }
                }
                else
                {
                    await Qmp.ExecuteAsync("netdev_add", w =>
                    {
                        w.WriteString("type", "user");
                        w.WriteString("id", netdev);
                    }, ct).ConfigureAwait(false);
                }
                await DeviceAddOrUndoAsync(w =>
                {
                    w.WriteString("driver", "virtio-net-pci");
                    w.WriteString("id", id);
                    w.WriteString("netdev", netdev);
                    w.WriteString("mac", network.MacAddress.ToLowerInvariant());
                    w.WriteString("bus", rootPort);
                }, () => Qmp.ExecuteAsync("netdev_del", w => w.WriteString("id", netdev), CancellationToken.None), ct).ConfigureAwait(false);
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
            var slots = await Qmp.ExecuteAsync("query-hotpluggable-cpus", null, ct).ConfigureAwait(false);
            var free = HotpluggableCpus.LowestFree(slots)
                ?? throw new StencilException(ErrorKind.ResourceExhausted,
                    $"vm {Name} already has all {Description.Cpus.Max} vCPUs it may have (cpus.max = {Description.Cpus.Max})");
            var id = NextId("cpu");
            await Qmp.ExecuteAsync("device_add", w =>
            {
                w.WriteString("driver", free.Type);
                w.WriteString("id", id);
                foreach (var property in free.Properties.EnumerateObject())
                    property.WriteTo(w);
            }, ct).ConfigureAwait(false);
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
            await Qmp.ExecuteAsync("object-add", w =>
            {
                w.WriteString("qom-type", "memory-backend-ram");
                w.WriteString("id", backend);
                w.WriteNumber("size", (long)sizeMiB * 1024 * 1024);
            }, ct).ConfigureAwait(false);
            await DeviceAddOrUndoAsync(w =>
            {
                w.WriteString("driver", "pc-dimm");
                w.WriteString("id", id);
                w.WriteString("memdev", backend);
            }, () => Qmp.ExecuteAsync("object-del", w => w.WriteString("id", backend), CancellationToken.None), ct).ConfigureAwait(false);
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
                await Qmp.ExecuteAsync("device_del", w => w.WriteString("id", device.Id), ct).ConfigureAwait(false);
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

            switch (device.Kind)
            {
                case DeviceKind.Disk:
                    await Qmp.ExecuteAsync("blockdev-del", w => w.WriteString("node-name", device.BackendId!), ct).ConfigureAwait(false);
                    break;
                case DeviceKind.Network:
                    await Qmp.ExecuteAsync("netdev_del", w => w.WriteString("id", device.BackendId!), ct).ConfigureAwait(false);
                    break;
                case DeviceKind.SerialPort:
                    await Qmp.ExecuteAsync("chardev-remove", w => w.WriteString("id", device.BackendId!), ct).ConfigureAwait(false);
                    break;
                case DeviceKind.Memory:
                    await Qmp.ExecuteAsync("object-del", w => w.WriteString("id", device.BackendId!), ct).ConfigureAwait(false);
                    break;
            }
            lock (_gate)
            {
                _devices.Remove(device.Id);
                if (device.RootPort is { } port)
                    _rootPorts.Release(port);
            }
            return true;
        }, cancellationToken);
    }

    /// <summary>Kills QEMU (if started), waits for it, closes QMP and removes the sockets and pid file it owned.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _exited.Task.ConfigureAwait(false);
            return;
        }
        await StopProcessAsync(graceful: false).ConfigureAwait(false);
        await _eventPump.ConfigureAwait(false);
    }

    // ---- the operation runner ------------------------------------------------------------------

    private async Task<T> RunAsync<T>(VmOperation operation, string action, TimeSpan timeout, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VmState from, target;
            lock (_gate)
            {
                if (_state == VmState.Stopped && _process is { } process && UnexpectedExit())
                    throw process.ExitError($"cannot {VmLifecycle.Verb(operation)} vm {Name}");
                from = _state;
                target = VmLifecycle.Next(from, operation, Name);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            T result;
            try
            {
                result = await body(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
            {
                throw new StencilException(ErrorKind.DeadlineExceeded, $"{action} did not finish within {Seconds(timeout)}");
            }
            catch (StencilException ex) when (ex.Kind == ErrorKind.Unavailable)
            {
                throw await ExplainAsync(action, ex).ConfigureAwait(false);
            }
            Move(from, target);
            return result;
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// QMP went away: QEMU is probably exiting. Wait briefly for it, then report its exit code and
    /// output instead of a bare "connection closed".
    /// </summary>
    private async Task<StencilException> ExplainAsync(string action, StencilException error)
    {
        if (_process is not { } process)
            return error;
        await Task.WhenAny(process.Exited, Task.Delay(s_exitExplainGrace)).ConfigureAwait(false);
        if (!process.HasExited)
            return new StencilException(error.Kind, $"{action} failed: {error.Message}", error);
        lock (_gate)
        {
            if (_stopRequested)
                return StencilException.Unavailable($"{action} failed: vm {Name} was stopped", error);
        }
        return process.ExitError($"{action} failed", error);
    }

    /// <summary>
    /// from -> target, unless something else moved the state while the operation ran: QEMU died
    /// (Stopped is final) or a STOP/RESUME event already said where QEMU is.
    /// </summary>
    private void Move(VmState from, VmState target)
    {
        lock (_gate)
        {
            if (_state == from)
                _state = target;
        }
    }

    private bool UnexpectedExit()
    {
        lock (_gate)
            return !_stopRequested;
    }

    // ---- start and stop ------------------------------------------------------------------------

    private async Task<QmpClient> ConnectQmpAsync(QemuProcess process, CancellationToken cancellationToken)
    {
        var path = Instance.Paths.QmpSocket;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.StartTimeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                    throw StencilException.Unavailable($"qemu exited before opening its QMP socket {path}");
                var socket = await QmpClient.TryConnectSocketAsync(path, deadline.Token).ConfigureAwait(false);
                if (socket is not null)
                    return await QmpClient.StartAsync(socket, path, QmpFraming.DefaultMaxLineBytes, deadline.Token).ConfigureAwait(false);
                await Task.WhenAny(Task.Delay(s_qmpConnectRetry, deadline.Token), process.Exited).ConfigureAwait(false);
                deadline.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new StencilException(ErrorKind.DeadlineExceeded,
                $"starting vm {Name}: qemu did not answer on its QMP socket {path} within {Seconds(_options.StartTimeout)}; its output: {Tail(process)}");
        }
    }

    private async Task StopProcessAsync(bool graceful)
    {
        QemuProcess? process;
        QmpClient? qmp;
        lock (_gate)
        {
            _stopRequested = true;
            process = _process;
            qmp = _qmp;
            if (process is null)
                _state = VmState.Stopped;
        }

        if (process is not null)
        {
            if (graceful && !process.HasExited && qmp is not null)
            {
                // QEMU may close the socket before its reply arrives: that is success too.
                await BestEffortAsync(() => qmp.ExecuteAsync("quit", null, CancellationToken.None)).ConfigureAwait(false);
                await Task.WhenAny(process.Exited, Task.Delay(_options.ShutdownTimeout)).ConfigureAwait(false);
            }
            await process.DisposeAsync().ConfigureAwait(false);
        }
        if (qmp is not null)
            await qmp.DisposeAsync().ConfigureAwait(false);

        string[] owned;
        lock (_gate)
        {
            _state = VmState.Stopped;
            owned = [.. _ownedSockets];
        }
        foreach (var path in owned)
            TryDelete(path);
        _exited.TrySetResult();
    }

    private async Task WatchExitAsync(QemuProcess process)
    {
        await process.Exited.ConfigureAwait(false);
        lock (_gate)
            _state = VmState.Stopped;
        List<TaskCompletionSource> waiters;
        lock (_deletions)
        {
            waiters = [.. _deletions.Values];
            _deletions.Clear();
        }
        foreach (var waiter in waiters)
            waiter.TrySetException(process.ExitError($"vm {Name}"));
        if (_qmp is { } qmp)
            await qmp.DisposeAsync().ConfigureAwait(false);
        // QEMU removes its listening sockets on a clean exit, not when it dies.
        string[] owned;
        lock (_gate)
            owned = [.. _ownedSockets];
        foreach (var path in owned)
            TryDelete(path);
        _exited.TrySetResult();
    }

    private async Task PumpEventsAsync(QmpClient qmp)
    {
        await foreach (var e in qmp.Events.ReadAllAsync().ConfigureAwait(false))
        {
            // QEMU's own run state wins: a guest I/O error pauses the VM, and a stop or cont whose
            // caller timed out still takes effect when QEMU gets to it.
            if (e.Name is "STOP" or "RESUME")
            {
                lock (_gate)
                {
                    if (e.Name == "STOP" && _state == VmState.Running)
                        _state = VmState.Paused;
                    else if (e.Name == "RESUME" && _state == VmState.Paused)
                        _state = VmState.Running;
                }
            }
            if (e.Name == "DEVICE_DELETED" && e.Data.ValueKind == JsonValueKind.Object
                && e.Data.TryGetProperty("device", out var device) && device.ValueKind == JsonValueKind.String)
            {
                TaskCompletionSource? waiter;
                lock (_deletions)
                    _deletions.Remove(device.GetString()!, out waiter);
                waiter?.TrySetResult();
            }
            EventReceived?.Invoke(e);
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private async Task<string> QueryStatusCoreAsync(CancellationToken cancellationToken)
    {
        var status = await Qmp.ExecuteAsync("query-status", null, cancellationToken).ConfigureAwait(false);
        return status.ValueKind == JsonValueKind.Object && status.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()!
            : throw StencilException.Internal($"vm {Name}: query-status returned {status.GetRawText()}");
    }

    /// <summary>Both ends of a save/restore must agree on x-ignore-shared, or QEMU refuses the stream.</summary>
    private Task SetIgnoreSharedAsync(CancellationToken cancellationToken) =>
        Qmp.ExecuteAsync("migrate-set-capabilities", w =>
        {
            w.WriteStartArray("capabilities");
            w.WriteStartObject();
            w.WriteString("capability", "x-ignore-shared");
            w.WriteBoolean("state", true);
            w.WriteEndObject();
            w.WriteEndArray();
        }, cancellationToken);

    private async Task MigrateWithFdAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            await Qmp.ExecuteAsync(command, w => w.WriteString("uri", "fd:" + MigrationFdName), cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
        {
            await BestEffortAsync(() => Qmp.CloseFdAsync(MigrationFdName, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitForMigrationAsync(string action, CancellationToken cancellationToken)
    {
        while (true)
        {
            var info = await Qmp.ExecuteAsync("query-migrate", null, cancellationToken).ConfigureAwait(false);
            var status = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()
                : null;
            switch (status)
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    var reason = info.TryGetProperty("error-desc", out var desc) && desc.ValueKind == JsonValueKind.String
                        ? desc.GetString()
                        : "migration " + status;
                    throw StencilException.Internal($"{action} failed: {reason}");
            }
            await Task.Delay(_options.MigrationPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>device_add; if QEMU refuses, undo the backend created for it, then rethrow.</summary>
    private async Task DeviceAddOrUndoAsync(Action<Utf8JsonWriter> arguments, Func<Task> undoBackend, CancellationToken cancellationToken)
    {
        try
        {
            await Qmp.ExecuteAsync("device_add", arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
        {
            await BestEffortAsync(undoBackend).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (StencilException)
        {
            // Cleanup of something already failing; the original error is what matters.
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

    private string AllocateRootPort()
    {
        lock (_gate)
            return _rootPorts.Allocate(Name);
    }

    private void ReleaseRootPort(string rootPort)
    {
        lock (_gate)
            _rootPorts.Release(rootPort);
    }

    /// <summary>
    /// Created by us and handed to QEMU as an fd. Owner-only: it holds device state and the RAM that
    /// is not in the shared memory file (ROMs, firmware data).
    /// </summary>
    private static FileStream CreateStateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            return new FileStream(path, options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw FileError("cannot create state file", path, ex);
        }
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenStateFile(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw FileError("cannot open state file", path, ex);
        }
    }

    private static StencilException FileError(string what, string path, Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => new StencilException(ErrorKind.NotFound, $"{what} {path}: it does not exist", ex),
        UnauthorizedAccessException => new StencilException(ErrorKind.PermissionDenied, $"{what} {path}: {ex.Message}", ex),
        _ => StencilException.Internal($"{what} {path}: {ex.Message}", ex),
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover socket file is harmless and QEMU replaces it on the next bind.
        }
    }

    private static string Tail(QemuProcess process)
    {
        var tail = process.OutputTail;
        return tail.Length == 0 ? "(nothing)" : tail;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    [GeneratedRegex("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SerialPattern();
}
