using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

/// <summary>
/// One QEMU VM and the operations on it, behind an explicit state machine (<see cref="VmState"/>):
/// start, pause/resume, save/restore (x-ignore-shared), hotplug/unplug, shutdown/kill. Operations run
/// one at a time; an illegal move fails with FailedPrecondition; when QEMU dies, the error says why
/// ("qemu exited with code 1: ..."). Dispose kills QEMU and removes its sockets.
/// </summary>
/// <remarks>
/// One class in several files, by concern: this file (state and construction), Lifecycle (start,
/// pause, resume, shutdown), Operations (the runner every QMP operation goes through), Process (QEMU's
/// exit and QMP events), Migration (save and restore), Hotplug (devices). The QMP commands themselves
/// are built in <see cref="QmpCommands"/>.
/// </remarks>
public sealed partial class QemuVm : IAsyncDisposable
{
    private readonly QemuVmOptions _options;
    private readonly SemaphoreSlim _operation = new(1, 1);
    private readonly Lock _gate = new();
    private readonly RootPortAllocator _rootPorts;
    private readonly Dictionary<string, HotpluggedDevice> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _deletions = new(StringComparer.Ordinal);
    private readonly OwnedFiles _ownedFiles = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private VmState _state = VmState.Created;
    private bool _stopRequested;
    private QemuExitReason? _exitReason;
    private QemuProcess? _process;
    private QmpClient? _qmp;
    private Task _eventPump = Task.CompletedTask;
    private int _nextDeviceNumber;
    private int _disposed;
    private bool _detached;

    private QemuVm(VmDescription description, VmInstance instance, QemuVmOptions options)
    {
        Description = description;
        Instance = instance;
        _options = options;
        CommandLine = QemuCommandLine.Build(description, instance);
        _rootPorts = new RootPortAllocator(description.HotplugRootPorts);
        _ownedFiles.Add(instance.Paths.QmpSocket);
        _ownedFiles.Add(instance.Paths.AgentSocket);
        if (instance.Paths.ConsoleSocket is { } console)
            _ownedFiles.Add(console);
        if (instance.Paths.PidFile is { } pidFile)
            _ownedFiles.Add(pidFile);
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
    /// Why QEMU exited on its own, classified from its output; null while it runs and when Stencil
    /// stopped it (shutdown, kill, dispose). Set by the time an operation fails with "qemu exited".
    /// </summary>
    public QemuExitReason? ExitReason
    {
        get
        {
            lock (_gate)
                return _exitReason;
        }
    }

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

    /// <summary>The devices hot-plugged into it and not removed.</summary>
    public IReadOnlyList<HotpluggedDevice> Devices
    {
        get
        {
            lock (_gate)
                return [.. _devices.Values];
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
}
