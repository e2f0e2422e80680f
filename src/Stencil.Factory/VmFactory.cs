using System.Diagnostics;
using Stencil.Factory.Internal;
using Stencil.Hypervisor;

namespace Stencil.Factory;

/// <summary>
/// Makes pod VMs: from the pool when a paused clone is ready, else a clone of the template (built on
/// first need under a file lock, so concurrent shims build it once), else a cold boot. A clone is
/// fixed up before anyone uses it: a fresh vmgenid on its command line, 512 bytes from the host's RNG
/// mixed into the guest's, the guest clock set from the host's. A template that fails to restore is
/// set aside with QEMU's reason and the VM is cold booted instead; a VM request never fails because
/// templating did.
/// </summary>
/// <remarks>
/// This class is the fallback chain and the public face; the work is done, as in Kata's factory, by
/// <see cref="TemplateManager"/> (the template: fingerprint, build, set aside, status, destroy),
/// <see cref="TemplateCloner"/> (clones and their fix-ups; the pool's source of clones),
/// <see cref="ColdBooter"/> (direct boot) and <see cref="VmPool"/> (paused clones made ahead).
/// </remarks>
public sealed class VmFactory : IAsyncDisposable
{
    /// <inheritdoc cref="TemplateManager.MaxAutomaticRebuilds"/>
    internal const int MaxAutomaticRebuilds = TemplateManager.MaxAutomaticRebuilds;

    private readonly TemplateManager _templates;
    private readonly TemplateCloner _cloner;
    private readonly ColdBooter _coldBooter;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private VmPool? _pool;
    private int _disposed;

    public VmFactory(VmFactoryOptions options, ILog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options.Description);
        if (options.PoolSize < 0)
            throw StencilException.InvalidArgument($"pool size {options.PoolSize}: must not be negative");
        if (options.TemplateBuildTimeout <= TimeSpan.Zero || options.AgentTimeout <= TimeSpan.Zero)
            throw StencilException.InvalidArgument("template build timeout and agent timeout must be positive");
        if (options.EnableTemplate && options.Description.Kernel is null)
            throw StencilException.InvalidArgument("templates need a VM description with a kernel (direct kernel boot)");
        Options = options;
        _log = log;
        _templates = new TemplateManager(options, log);
        _cloner = new TemplateCloner(options, _templates, log);
        _coldBooter = new ColdBooter(options, log);
    }

    public VmFactoryOptions Options { get; }

    /// <summary>This process's pool, once started (by <see cref="StartPool"/> or the first request with a pool size set).</summary>
    public IVmPool? Pool
    {
        get
        {
            lock (_gate)
                return _pool;
        }
    }

    /// <summary>Templates this factory object built (tests: concurrent first use builds once).</summary>
    internal int TemplatesBuilt => _templates.Built;

    internal TemplateStore Store => _templates.Store;

    /// <summary>
    /// A running VM with its agent answering: pool, else template clone, else cold boot. Template
    /// trouble (no template and it cannot be built, a clone that fails to restore) is logged as a
    /// warning and ends in a cold boot (see <see cref="FactoryVm.FallbackReason"/>).
    /// </summary>
    public async Task<FactoryVm> StartVmAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        var clock = Stopwatch.StartNew();
        if (request.AllowPool && Options.EnableTemplate && Options.PoolSize > 0)
        {
            var pooled = await StartPool().TryTakeAsync(request, cancellationToken).ConfigureAwait(false);
            if (pooled is not null)
                return pooled;
        }

        string? fallback = null;
        if (Options.EnableTemplate)
        {
            try
            {
                return await CloneCoreAsync(request, clock, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled && !cancellationToken.IsCancellationRequested)
            {
                fallback = ex.Message;
                _log.Warning($"{request.Name}: cold booting instead of cloning a template: {ex.Message}");
            }
        }
        return await _coldBooter.BootAsync(request, clock, fallback, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A cold boot, whatever the options say (the direct factory).</summary>
    public Task<FactoryVm> ColdBootAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        return _coldBooter.BootAsync(request, Stopwatch.StartNew(), null, cancellationToken);
    }

    /// <summary>A template clone, building the template if needed; failures are thrown, not turned into a cold boot.</summary>
    public Task<FactoryVm> CloneAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        return CloneCoreAsync(request, Stopwatch.StartNew(), cancellationToken);
    }

    /// <summary>
    /// The template of the current configuration, built if missing (`stencil factory init`): waits
    /// for another builder's lock, removes stale templates, and (<paramref name="rebuild"/>) replaces
    /// a current one. Unlike the automatic path it also rebuilds a template that was set aside.
    /// </summary>
    public async Task<TemplateBuildResult> EnsureTemplateAsync(bool rebuild = false, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var (template, built, removed) = await _templates.EnsureAsync(explicitRequest: true, rebuild, cancellationToken).ConfigureAwait(false);
        return new TemplateBuildResult(TemplateManager.ToStatus(template, template.Fingerprint), built, clock.Elapsed, removed);
    }

    /// <summary>The fingerprint of the current configuration and files (hashing what changed since last time).</summary>
    public async Task<string> GetFingerprintAsync(CancellationToken cancellationToken = default) =>
        (await _templates.ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false)).Fingerprint;

    /// <summary>
    /// The QEMU process settings this factory starts clones with that the template's state does not hold
    /// (<see cref="QemuCommandLine.ProcessSettingsText"/>): a pooled clone handed to another configuration must match them.
    /// </summary>
    public string ProcessSettings => QemuCommandLine.ProcessSettingsText(Options.Description);

    public Task<FactoryStatus> GetStatusAsync(CancellationToken cancellationToken = default) => _templates.GetStatusAsync(cancellationToken);

    /// <summary>
    /// `stencil factory destroy`: stops this process's pool, removes every template and unmounts the
    /// tmpfs Stencil mounted. Running clones keep running: each maps its template's memory file,
    /// whose pages the kernel frees when the last clone exits.
    /// </summary>
    public async Task<FactoryDestroyResult> DestroyAsync(CancellationToken cancellationToken = default)
    {
        VmPool? pool;
        lock (_gate)
        {
            pool = _pool;
            _pool = null;
        }
        if (pool is not null)
            await pool.DisposeAsync().ConfigureAwait(false);
        return await _templates.DestroyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts this process's pool of <see cref="VmFactoryOptions.PoolSize"/> paused clones (once).</summary>
    public IVmPool StartPool()
    {
        if (Options.PoolSize <= 0)
            throw StencilException.FailedPrecondition("the pool size is 0 ([factory] pool_size)");
        if (!Options.EnableTemplate)
            throw StencilException.FailedPrecondition("the pool holds template clones, but templates are off ([factory] enable_template = false)");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return _pool ??= new VmPool(_cloner, Options.PoolSize, Options.PoolDirectory, _log, Options.PoolRefillDelay);
        }
    }

    /// <summary>
    /// The factory daemon's hand-over: a ready pooled clone of template <paramref name="fingerprint"/>
    /// (the asker's configuration), detached from this process (its agent connection and QMP closed,
    /// QEMU left paused) for the asker to attach with <see cref="AttachHandedOverAsync"/>. Null when
    /// none is ready; the pool refills in the background. Starts the pool on first use.
    /// </summary>
    public async Task<HandedOverClone?> TryHandOutAsync(string fingerprint, string receiver, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        var pool = (VmPool)StartPool();
        while (await pool.TryTakeCloneAsync(fingerprint).ConfigureAwait(false) is { } clone)
        {
            try
            {
                return await _cloner.DetachAsync(clone, receiver, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex) when (!cancellationToken.IsCancellationRequested)
            {
                _log.Warning($"pool: handing clone {clone.Vm.Name} to {receiver} failed: {ex.Message}");
            }
        }
        return null;
    }

    /// <summary>Discards the pool's clones of any template but <paramref name="fingerprint"/> (the daemon saw the configuration change).</summary>
    public Task<int> DiscardStaleClonesAsync(string fingerprint)
    {
        VmPool? pool;
        lock (_gate)
            pool = _pool;
        return pool is null ? Task.FromResult(0) : pool.DiscardStaleAsync(fingerprint);
    }

    /// <summary>
    /// Takes over a clone another process handed over (<see cref="TryHandOutAsync"/>): adopted,
    /// resumed, fixed up (RNG reseeded, clock set), grown to the request. It must be of this
    /// configuration's current template. On failure the clone is killed and its folder removed.
    /// </summary>
    /// <param name="clock">Started when the caller asked for the clone; its elapsed time becomes <see cref="FactoryVm.StartupTime"/>.</param>
    public Task<FactoryVm> AttachHandedOverAsync(HandedOverClone clone, VmRequest request, Stopwatch? clock = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clone);
        ArgumentNullException.ThrowIfNull(request);
        return _cloner.AttachAsync(clone, request, clock ?? Stopwatch.StartNew(), cancellationToken);
    }

    /// <summary>
    /// Checkpoints <paramref name="vm"/> into <paramref name="folder"/>: pauses it (it stays paused: the
    /// caller resumes or stops it), saves its device state, then its memory: only the pages it has of
    /// its own when its template is still in the store as the clone mapped it and <paramref name="fullMemory"/>
    /// is false, every non-zero page otherwise. A cold-booted VM, or one that grew memory, vCPUs or
    /// devices other than disks, is refused (FailedPrecondition, naming what).
    /// </summary>
    public async Task<VmCheckpoint> CheckpointAsync(FactoryVm vm, string folder, bool fullMemory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.Origin == VmOrigin.ColdBoot || vm.TemplateFingerprint is not { } fingerprint)
            throw StencilException.FailedPrecondition($"vm {vm.Name} was cold booted: only a template clone can be checkpointed (its memory is a template's plus its own pages)");
        if (vm.HotAddedMemoryMiB > 0)
            throw StencilException.FailedPrecondition($"vm {vm.Name} has {vm.HotAddedMemoryMiB} MiB of hot-added memory, which a checkpoint does not keep yet");
        var other = vm.Qemu.Devices.Where(d => d.Kind != DeviceKind.Disk).Select(d => $"{d.Kind} {d.Id}").ToList();
        if (other.Count > 0)
            throw StencilException.FailedPrecondition($"vm {vm.Name} has hot-plugged devices a checkpoint does not keep yet: {string.Join(", ", other)}");
        var template = _templates.Store.TryOpen(fingerprint);
        var metadata = template?.ReadMetadata();
        var full = fullMemory
            || template is null
            || FileFacts.Read(template.MemoryFile)?.Inode is not { } inode
            || vm.Qemu.MappedMemoryInode() != (long)inode;
        if (!fullMemory && full)
            _log.Info($"vm {vm.Name}: its template {fingerprint} is gone or was rebuilt since it was cloned: the checkpoint keeps all of its memory");
        var text = metadata?.FingerprintText ?? (await _templates.ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false)).Text;

        if (await vm.Qemu.QueryStatusAsync(cancellationToken).ConfigureAwait(false) == "running")
            await vm.Qemu.PauseAsync(cancellationToken).ConfigureAwait(false);
        var disks = vm.ListDisks();
        // The device state first: should QEMU still write into guest memory (a virtio-serial port takes
        // bytes from its socket while the VM is stopped), the memory saved after has the bytes the
        // rings point to, never the other way round.
        await vm.Qemu.SaveDeviceStateAsync(Path.Combine(folder, VmCheckpoint.DeviceStateFileName), cancellationToken).ConfigureAwait(false);
        var pages = await vm.Qemu.SaveMemoryPagesAsync(Path.Combine(folder, VmCheckpoint.MemoryFileName), full, cancellationToken).ConfigureAwait(false);
        return new VmCheckpoint
        {
            Memory = full ? "full" : "own",
            TemplateFingerprint = fingerprint,
            FingerprintText = text,
            TemplateCreated = full ? null : metadata!.Created,
            MemoryMiB = vm.Qemu.Description.Memory.SizeMiB,
            MemoryPages = pages,
            Disks = disks,
            // Calls made from here on are not in the saved guest; a margin covers any in flight.
            AgentNextStreamId = vm.Agent.NextStreamId + 2 * 4096,
        };
    }

    /// <summary>
    /// A VM restored from a checkpoint made by <see cref="CheckpointAsync"/> with the same configuration
    /// and files (the fingerprint names what differs): a clone of its template (memory "own": the very
    /// template must be here) or of nothing (memory "full"), its disks plugged back where they were
    /// (<paramref name="disks"/>: the host file of each), its pages written, its device state loaded,
    /// then resumed and fixed up (RNG reseeded, clock set) like any clone.
    /// </summary>
    public async Task<FactoryVm> RestoreAsync(VmRequest request, VmCheckpoint checkpoint, string folder,
        IReadOnlyList<(VmCheckpointDisk Disk, string HostPath)> disks, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var clock = Stopwatch.StartNew();
        var resolved = await _templates.ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false);
        if (resolved.Fingerprint != checkpoint.TemplateFingerprint)
        {
            throw StencilException.FailedPrecondition(
                $"the checkpoint was made with another VM configuration or other files (fingerprint {checkpoint.TemplateFingerprint}, here {resolved.Fingerprint}): " +
                TemplateFingerprint.Differences(checkpoint.FingerprintText, resolved.Text));
        }
        Template? template = null;
        string memoryFile;
        string? zeroBase = null;
        if (!checkpoint.IsFullMemory)
        {
            template = _templates.Store.TryOpen(checkpoint.TemplateFingerprint)
                ?? throw StencilException.NotFound(
                    $"the checkpoint holds only the pages its VM wrote; the others are template {checkpoint.TemplateFingerprint}'s (built {checkpoint.TemplateCreated:u}), " +
                    $"which is not in {_templates.Store.Root}: restore it where it was made, or checkpoint with [runtime] checkpoint_memory = \"full\"");
            var created = template.ReadMetadata().Created;
            if (created != checkpoint.TemplateCreated)
            {
                throw StencilException.FailedPrecondition(
                    $"the checkpoint holds only the pages its VM wrote over template {checkpoint.TemplateFingerprint} built {checkpoint.TemplateCreated:u}, " +
                    $"but this node's template of that fingerprint was built {created:u} (other memory): checkpoint with [runtime] checkpoint_memory = \"full\" to restore elsewhere");
            }
            memoryFile = template.MemoryFile;
        }
        else
        {
            // A zero base the full page file is written over (sparse: costs nothing until written).
            memoryFile = zeroBase = Path.Combine(request.RunDirectory, "memory.base");
            using var file = new FileStream(memoryFile, FileMode.Create, FileAccess.Write);
            file.SetLength((long)checkpoint.MemoryMiB << 20);
        }
        try
        {
            return await _cloner.RestoreAsync(template, checkpoint, memoryFile, folder, disks, request, clock, cancellationToken).ConfigureAwait(false);
        }
        catch when (zeroBase is not null)
        {
            File.Delete(zeroBase);
            throw;
        }
    }

    /// <summary>Kills and removes the clones an earlier run of this pool left in its folder (not those it handed over).</summary>
    public int RemovePoolLeftovers() => PoolDirectory.CleanLeftovers(Options.PoolDirectory, _log);

    public async ValueTask DisposeAsync()
    {
        VmPool? pool;
        lock (_gate)
        {
            if (_disposed != 0)
                return;
            _disposed = 1;
            pool = _pool;
            _pool = null;
        }
        if (pool is not null)
            await pool.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<FactoryVm> CloneCoreAsync(VmRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var (template, _, _) = await _templates.EnsureAsync(explicitRequest: false, rebuild: false, cancellationToken).ConfigureAwait(false);
        return await _cloner.CloneAsync(template, request, clock, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckRequest(VmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.RunDirectory) || !Directory.Exists(request.RunDirectory))
            throw StencilException.NotFound($"run directory \"{request.RunDirectory}\" of {request.Name} does not exist");
        if (request.SharedDirectory is not null && !Directory.Exists(request.SharedDirectory))
            throw StencilException.NotFound($"shared directory {request.SharedDirectory} of {request.Name} does not exist");
    }
}
