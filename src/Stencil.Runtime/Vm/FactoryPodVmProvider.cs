using Stencil.Factory;
using Stencil.Factory.Client;
using Stencil.Runtime.Configuration;

namespace Stencil.Runtime.Vm;

/// <summary>
/// The pod runtime's VM seam over the VM factory: each pod's VM is a paused clone from the node's
/// factory daemon when one answers at [factory] daemon_socket with a clone of this configuration's
/// template; otherwise a template clone or a cold boot made here, as the factory decides (see
/// <see cref="VmFactory.StartVmAsync"/>). A shim never keeps a pool of its own: it would serve nobody.
/// </summary>
public sealed class FactoryPodVmProvider : IPodVmProvider, IAsyncDisposable
{
    /// <summary>The daemon answers from memory at once; more than this means it is stuck, and cloning here is faster.</summary>
    private static readonly TimeSpan s_daemonTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// In the pod's run folder: the folder of a clone taken from the factory daemon (its pid file,
    /// sockets and 9p export live there), so `delete` finds its QEMU if the shim dies.
    /// </summary>
    public const string CloneFileName = "clone";

    private readonly bool _ownsFactory;
    private readonly string? _daemonSocket;
    private readonly ILog _log;

    public FactoryPodVmProvider(VmFactory factory, string? daemonSocket = null, ILog? log = null)
        : this(factory, ownsFactory: false, daemonSocket, log ?? NullLog.Instance)
    {
    }

    private FactoryPodVmProvider(VmFactory factory, bool ownsFactory, string? daemonSocket, ILog log)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Factory = factory;
        _ownsFactory = ownsFactory;
        _daemonSocket = daemonSocket;
        _log = log;
    }

    /// <summary>A provider over a factory configured from configuration.toml (the factory is disposed with it).</summary>
    public static FactoryPodVmProvider FromConfig(StencilConfig config, ILog log)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(new VmFactory(FactoryOptionsFromConfig.Create(config), log), ownsFactory: true, config.Factory.DaemonSocket, log);
    }

    public VmFactory Factory { get; }

    public async Task<IPodVm> StartAsync(PodVmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var vmRequest = new VmRequest(request.Name, request.RunDirectory, request.SharedDirectory) { AllowPool = false };
        var vm = await TryDaemonAsync(vmRequest, cancellationToken).ConfigureAwait(false)
            ?? await Factory.StartVmAsync(vmRequest, cancellationToken).ConfigureAwait(false);
        return new FactoryPodVm(vm, request.SharedDirectory, Factory);
    }

    public async Task<IPodVm> RestoreAsync(PodVmRequest request, VmCheckpoint checkpoint, string folder, IReadOnlyList<(VmCheckpointDisk Disk, string HostPath)> disks,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var vm = await Factory.RestoreAsync(new VmRequest(request.Name, request.RunDirectory, request.SharedDirectory) { AllowPool = false }, checkpoint, folder, disks,
            cancellationToken).ConfigureAwait(false);
        return new FactoryPodVm(vm, request.SharedDirectory, Factory);
    }

    /// <summary>
    /// A clone from the factory daemon, taken over, resumed and fixed up here; null (logged at info)
    /// when there is no daemon, it has no clone of this template ready, or the hand-over fails.
    /// </summary>
    private async Task<FactoryVm?> TryDaemonAsync(VmRequest request, CancellationToken cancellationToken)
    {
        if (_daemonSocket is null || !Factory.Options.EnableTemplate || !File.Exists(_daemonSocket))
            return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string fingerprint;
        try
        {
            fingerprint = await Factory.GetFingerprintAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
        {
            _log.Info($"{request.Name}: not asking the factory daemon: {ex.Message}");
            return null;
        }
        var fingerprinted = clock.Elapsed;
        var answer = await FactoryDaemonClient.TakeCloneAsync(_daemonSocket, fingerprint, Factory.ProcessSettings, request.Name, s_daemonTimeout, cancellationToken).ConfigureAwait(false);
        var answered = clock.Elapsed;
        if (answer.Handed is not { } handed)
        {
            _log.Info($"{request.Name}: cloning the template here: {answer.Reason}");
            return null;
        }
        try
        {
            // Written first: from here on the clone is this pod's, also for `delete` if the shim dies.
            await File.WriteAllTextAsync(Path.Combine(request.RunDirectory, CloneFileName), handed.Directory + "\n", cancellationToken).ConfigureAwait(false);
            var vm = await Factory.AttachHandedOverAsync(handed, request, clock, cancellationToken).ConfigureAwait(false);
            _log.Info($"{request.Name}: took clone {handed.Name} (qemu pid {handed.ProcessId}) from the factory daemon: hand-over {vm.StartupTime.TotalMilliseconds:F1} ms " +
                $"(fingerprint {fingerprinted.TotalMilliseconds:F1} ms, daemon answered after {answered.TotalMilliseconds:F1} ms; then attached, resumed, RNG reseeded, clock set)");
            return vm;
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled && !cancellationToken.IsCancellationRequested)
        {
            File.Delete(Path.Combine(request.RunDirectory, CloneFileName));
            _log.Warning($"{request.Name}: the factory daemon's clone {handed.Name} could not be taken over ({ex.Message}); cloning the template here");
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsFactory)
            await Factory.DisposeAsync().ConfigureAwait(false);
    }
}
