using System.Diagnostics;
using System.Security.Cryptography;
using Stencil.Agent.Client;
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
public sealed class VmFactory : IAsyncDisposable
{
    /// <summary>
    /// After a template of one fingerprint failed (to build, or a clone to restore) this many times,
    /// it is no longer rebuilt automatically (each attempt would cost a template boot per pod): VMs
    /// are cold booted until `stencil factory init` builds it again.
    /// </summary>
    internal const int MaxAutomaticRebuilds = 2;

    /// <summary>What Kata sends to ReseedRandomDev.</summary>
    internal const int RandomSeedBytes = 512;

    private static readonly TimeSpan s_lockMargin = TimeSpan.FromSeconds(30);

    private readonly TemplateStore _store;
    private readonly TemplateBuilder _builder;
    private readonly FileHashCache _hashes;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private VmPool? _pool;
    private int _templatesBuilt;
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
        _store = new TemplateStore(options.TemplatePath);
        _builder = new TemplateBuilder(options, log);
        _hashes = new FileHashCache(_store.HashCacheFile);
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
    internal int TemplatesBuilt => Volatile.Read(ref _templatesBuilt);

    internal TemplateStore Store => _store;

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
                var (template, _, _) = await EnsureTemplateCoreAsync(explicitRequest: false, rebuild: false, cancellationToken).ConfigureAwait(false);
                return await CloneCoreAsync(template, request, clock, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled && !cancellationToken.IsCancellationRequested)
            {
                fallback = ex.Message;
                _log.Warning($"{request.Name}: cold booting instead of cloning a template: {ex.Message}");
            }
        }
        return await ColdBootCoreAsync(request, clock, fallback, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A cold boot, whatever the options say (the direct factory).</summary>
    public Task<FactoryVm> ColdBootAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        return ColdBootCoreAsync(request, Stopwatch.StartNew(), null, cancellationToken);
    }

    /// <summary>A template clone, building the template if needed; failures are thrown, not turned into a cold boot.</summary>
    public async Task<FactoryVm> CloneAsync(VmRequest request, CancellationToken cancellationToken = default)
    {
        CheckRequest(request);
        var clock = Stopwatch.StartNew();
        var (template, _, _) = await EnsureTemplateCoreAsync(explicitRequest: false, rebuild: false, cancellationToken).ConfigureAwait(false);
        return await CloneCoreAsync(template, request, clock, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The template of the current configuration, built if missing (`stencil factory init`): waits
    /// for another builder's lock, removes stale templates, and (<paramref name="rebuild"/>) replaces
    /// a current one. Unlike the automatic path it also rebuilds a template that was set aside.
    /// </summary>
    public async Task<TemplateBuildResult> EnsureTemplateAsync(bool rebuild = false, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var (template, built, removed) = await EnsureTemplateCoreAsync(explicitRequest: true, rebuild, cancellationToken).ConfigureAwait(false);
        return new TemplateBuildResult(ToStatus(template, template.Fingerprint), built, clock.Elapsed, removed);
    }

    /// <summary>The fingerprint of the current configuration and files (hashing what changed since last time).</summary>
    public async Task<string> GetFingerprintAsync(CancellationToken cancellationToken = default) =>
        (await ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false)).Fingerprint;

    public async Task<FactoryStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        string? current = null;
        string? problem = null;
        try
        {
            current = await GetFingerprintAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            problem = ex.Message;
        }
        var mounted = _store.Tmpfs.IsTmpfsMountPoint;
        return new FactoryStatus(
            _store.Root,
            mounted,
            mounted && _store.Tmpfs.MountedByStencil,
            current,
            problem,
            [.. _store.ListTemplates().Select(t => ToStatus(t, current))],
            [.. _store.ListSetAside().Select(s => new SetAsideTemplate(s.Fingerprint, s.Directory, s.When, s.Reason))]);
    }

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
        if (!Directory.Exists(Path.GetDirectoryName(_store.LockPath)))
            return new FactoryDestroyResult(0, 0, false);
        using var held = await FileLock.AcquireAsync(_store.LockPath, Options.TemplateBuildTimeout + s_lockMargin, "destroying the templates", cancellationToken)
            .ConfigureAwait(false);
        var templates = _store.ListTemplates().Count;
        var setAside = _store.ListSetAside().Count;
        _store.RemoveAll();
        var unmounted = _store.Tmpfs.UnmountIfOurs();
        _log.Info($"templates destroyed in {_store.Root}: {templates} templates, {setAside} set aside{(unmounted ? ", tmpfs unmounted" : "")}");
        return new FactoryDestroyResult(templates, setAside, unmounted);
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
            return _pool ??= new VmPool(this, Options.PoolSize, Options.PoolDirectory, _log);
        }
    }

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

    // ---- template ----------------------------------------------------------------------------

    internal async Task<(Template Template, bool Built, IReadOnlyList<string> Removed)> EnsureTemplateCoreAsync(bool explicitRequest, bool rebuild,
        CancellationToken cancellationToken)
    {
        var fingerprint = await ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false);
        var fp = fingerprint.Fingerprint;
        if (!rebuild && _store.TryOpen(fp) is { } existing)
            return (existing, false, []);
        if (!explicitRequest)
            CheckNotGivenUp(fp);

        using var held = await FileLock.AcquireAsync(_store.LockPath, Options.TemplateBuildTimeout + s_lockMargin, $"template {fp} is being built", cancellationToken)
            .ConfigureAwait(false);
        if (_store.Tmpfs.EnsureMounted(Options.TemplateTmpfsBytes))
            _log.Info($"mounted a tmpfs for templates on {_store.Root} ({Options.TemplateTmpfsBytes >> 20} MiB, nosuid, nodev, mode 0700)");
        // Someone may have built it while this process waited for the lock.
        if (!rebuild && _store.TryOpen(fp) is { } builtMeanwhile)
            return (builtMeanwhile, false, []);
        if (!explicitRequest)
            CheckNotGivenUp(fp);

        var removed = _store.RemoveStale(fp);
        if (removed.Count > 0)
            _log.Info($"removed stale templates from {_store.Root}: {string.Join(", ", removed)} (running clones keep their memory)");
        Template template;
        try
        {
            template = await _builder.BuildAsync(_store, fingerprint, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled && !cancellationToken.IsCancellationRequested)
        {
            _store.RecordFailedBuild(fp, ex.Message);
            _log.Warning($"template {fp}: {ex.Message}");
            throw;
        }
        Interlocked.Increment(ref _templatesBuilt);
        if (explicitRequest)
            _store.ForgetSetAside(fp);
        _hashes.Save();
        return (template, true, removed);
    }

    private void CheckNotGivenUp(string fingerprint)
    {
        var setAside = _store.ListSetAside().Where(s => s.Fingerprint == fingerprint).ToList();
        if (setAside.Count >= MaxAutomaticRebuilds)
        {
            throw StencilException.FailedPrecondition(
                $"template {fingerprint} failed {setAside.Count} times (last: {setAside[0].Reason}); it is not rebuilt automatically: run `stencil factory init` to build it again");
        }
    }

    internal async Task<ResolvedFingerprint> ResolveFingerprintAsync(CancellationToken cancellationToken)
    {
        var description = Options.Description;
        var kernel = description.Kernel ?? throw StencilException.InvalidArgument("the VM description has no kernel: a template needs direct kernel boot");
        var qemuPath = QemuBinary.Resolve(Options.Qemu.QemuBinary)
            ?? throw StencilException.NotFound($"QEMU binary {Options.Qemu.QemuBinary} not found (install qemu-system-x86, or set [hypervisor] path)");
        var qemu = await _hashes.GetAsync(qemuPath, "QEMU binary", QemuBinary.ReadVersionAsync, cancellationToken).ConfigureAwait(false);
        var kernelHash = await _hashes.GetAsync(kernel.KernelPath, "guest kernel", null, cancellationToken).ConfigureAwait(false);
        var initrdHash = kernel.InitrdPath is null ? null : await _hashes.GetAsync(kernel.InitrdPath, "guest initrd", null, cancellationToken).ConfigureAwait(false);
        var firmwareHash = description.FirmwarePath is null ? null : await _hashes.GetAsync(description.FirmwarePath, "firmware", null, cancellationToken).ConfigureAwait(false);
        var text = TemplateFingerprint.Text(new TemplateFingerprint.Inputs(qemu.Version!, qemu.Sha256, kernelHash.Sha256, initrdHash?.Sha256, firmwareHash?.Sha256, description));
        _hashes.Save();
        return new ResolvedFingerprint(TemplateFingerprint.Hash(text), text, qemuPath, qemu.Version!, qemu.Sha256,
            kernel.KernelPath, kernelHash.Sha256, kernel.InitrdPath, initrdHash?.Sha256);
    }

    private static TemplateStatus ToStatus(Template template, string? current)
    {
        var m = template.ReadMetadata();
        var memory = FileFacts.Read(template.MemoryFile);
        var state = FileFacts.Read(template.StateFile);
        return new TemplateStatus(template.Fingerprint, template.Directory, template.Fingerprint == current, m.Created, TimeSpan.FromSeconds(m.BuildSeconds),
            memory?.Size ?? 0, memory?.AllocatedBytes ?? 0, state?.Size ?? 0, template.ClonesServed, m.QemuVersion, m.Kernel, m.Initrd, m.Machine,
            m.Accelerator, m.Vcpus, m.MemoryMiB, m.FingerprintText);
    }

    // ---- clones ------------------------------------------------------------------------------

    private async Task<FactoryVm> CloneCoreAsync(Template template, VmRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var vm = await StartCloneAsync(template, request.Name, VmInstancePaths.InDirectory(request.RunDirectory), request.SharedDirectory, cancellationToken)
            .ConfigureAwait(false);
        return await FinishCloneAsync(vm, template, null, request, VmOrigin.TemplateClone, clock, request.RunDirectory, request.SharedDirectory, null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts QEMU for a clone (same description, share=off mapping of the template's memory, a fresh
    /// vmgenid, -incoming defer) and loads the template's state: the clone is then paused. If QEMU
    /// exits over the template (a corrupt state file, a command line the state does not fit), the
    /// template is set aside with QEMU's message, so no later VM tries it again.
    /// </summary>
    internal async Task<QemuVm> StartCloneAsync(Template template, string name, VmInstancePaths paths, string? sharedDirectory, CancellationToken cancellationToken)
    {
        var stateInode = FileFacts.Read(template.StateFile)?.Inode
            ?? throw StencilException.NotFound($"template {template.Fingerprint}: its state file {template.StateFile} is gone");
        var instance = VmInstance.ForClone(paths, template.MemoryFile) with
        {
            Name = name,
            SharedDirectory = sharedDirectory,
            // The guest kernel reseeds its RNG when it sees a new generation id: every clone gets its own.
            VmGenId = Options.Description.VmGenId ? Guid.NewGuid() : null,
        };
        var vm = QemuVm.Create(Options.Description, instance, Options.Qemu);
        var restoring = false;
        try
        {
            await vm.StartAsync(cancellationToken).ConfigureAwait(false);
            restoring = true;
            await vm.RestoreAsync(template.StateFile, cancellationToken).ConfigureAwait(false);
            return vm;
        }
        catch (Exception ex)
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            if (ex is StencilException se && IsTemplateFault(se, restoring, template))
            {
                var where = _store.SetAside(template, stateInode, se.Message);
                _log.Warning($"template {template.Fingerprint} set aside{(where is null ? "" : " as " + where)}: {se.Message}");
                throw new StencilException(se.Kind, $"template {template.Fingerprint} failed to restore and was set aside: {se.Message}", se);
            }
            throw;
        }
    }

    /// <summary>QEMU exited while loading the state, or at start over the template's memory file.</summary>
    private static bool IsTemplateFault(StencilException ex, bool restoring, Template template)
    {
        if (restoring)
            return ex.Kind is ErrorKind.Unavailable or ErrorKind.Internal;
        return ex.Kind == ErrorKind.Unavailable && ex.Message.Contains("qemu exited", StringComparison.Ordinal)
            && (ex.Message.Contains("backing store", StringComparison.Ordinal) || ex.Message.Contains(template.MemoryFile, StringComparison.Ordinal));
    }

    /// <summary>
    /// Resume, then the fix-ups before anything runs in the guest: the agent answers, the guest's RNG
    /// gets 512 bytes from the host's, its clock the host's time; then the VM grows to the requested
    /// size. A pooled clone comes with its agent connection already open.
    /// </summary>
    internal async Task<FactoryVm> FinishCloneAsync(QemuVm vm, Template template, AgentClient? agent, VmRequest request, VmOrigin origin, Stopwatch clock,
        string runDirectory, string? sharedDirectory, string? ownedDirectory, CancellationToken cancellationToken)
    {
        FactoryVm? result = null;
        try
        {
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            agent ??= await WaitForAgentAsync(vm, cancellationToken).ConfigureAwait(false);
            await FixUpAsync(agent, cancellationToken).ConfigureAwait(false);
            template.RecordServed();
            result = new FactoryVm(vm, agent, origin, clock.Elapsed, runDirectory, sharedDirectory, template.Fingerprint, null, ownedDirectory, _log);
            await GrowAsync(result, request, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            if (result is not null)
            {
                await result.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                if (agent is not null)
                    await agent.DisposeAsync().ConfigureAwait(false);
                await vm.DisposeAsync().ConfigureAwait(false);
                if (ownedDirectory is not null)
                    FactoryVm.RemoveOwnedDirectory(ownedDirectory, sharedDirectory, _log);
            }
            throw;
        }
    }

    internal static async Task FixUpAsync(AgentClient agent, CancellationToken cancellationToken)
    {
        var seed = new byte[RandomSeedBytes];
        RandomNumberGenerator.Fill(seed);
        await agent.ReseedRandomDevAsync(seed, cancellationToken).ConfigureAwait(false);
        await agent.SetGuestDateTimeAsync(DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
    }

    private static Task GrowAsync(FactoryVm vm, VmRequest request, CancellationToken cancellationToken)
    {
        if (request.Vcpus is null && request.MemoryMiB is null)
            return Task.CompletedTask;
        var description = vm.Qemu.Description;
        return vm.ResizeAsync(Math.Max(request.Vcpus ?? 0, description.Cpus.Boot), Math.Max(request.MemoryMiB ?? 0, description.Memory.SizeMiB), cancellationToken);
    }

    /// <summary>The agent's first answer; fails at once (with QEMU's reason) if QEMU exits meanwhile.</summary>
    internal async Task<AgentClient> WaitForAgentAsync(QemuVm vm, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ready = AgentClient.WaitReadyAsync(vm.Instance.Paths.AgentSocket, Options.AgentTimeout, abandon.Token);
        if (await Task.WhenAny(ready, vm.Exited).ConfigureAwait(false) == ready)
            return await ready.ConfigureAwait(false);
        abandon.Cancel();
        try
        {
            await (await ready.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or StencilException)
        {
        }
        // The next operation on a VM whose QEMU died reports the exit code and QEMU's last output.
        await vm.QueryStatusAsync(cancellationToken).ConfigureAwait(false);
        throw StencilException.Unavailable($"vm {vm.Name}: qemu exited before its agent answered");
    }

    // ---- cold boot ---------------------------------------------------------------------------

    private async Task<FactoryVm> ColdBootCoreAsync(VmRequest request, Stopwatch clock, string? fallbackReason, CancellationToken cancellationToken)
    {
        var paths = VmInstancePaths.InDirectory(request.RunDirectory);
        var instance = VmInstance.ForColdBoot(paths) with { Name = request.Name, SharedDirectory = request.SharedDirectory };
        var vm = await QemuVm.LaunchAsync(Options.Description, instance, Options.Qemu, cancellationToken).ConfigureAwait(false);
        AgentClient agent;
        try
        {
            agent = await WaitForAgentAsync(vm, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            if (ex is StencilException se)
                throw new StencilException(se.Kind, $"cold boot of {request.Name}: {se.Message}; guest console: {ConsoleTail.Read(paths.ConsoleLog)}", se);
            throw;
        }
        var result = new FactoryVm(vm, agent, VmOrigin.ColdBoot, clock.Elapsed, request.RunDirectory, request.SharedDirectory, null, fallbackReason, null, _log);
        try
        {
            await GrowAsync(result, request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return result;
    }

    // ---- pool --------------------------------------------------------------------------------

    /// <summary>
    /// A clone for the pool, in a folder of its own under the pool directory (sockets and the 9p
    /// export, both fixed when QEMU starts). It is resumed once until its agent answers, then paused
    /// again: that first run fills QEMU's code translation cache and opens the agent connection, so
    /// the hand-over is only resume + fix-ups. Nothing runs in it before the fix-ups at hand-over.
    /// </summary>
    internal async Task<PooledClone> PreparePooledCloneAsync(string poolDirectory, CancellationToken cancellationToken)
    {
        var (template, _, _) = await EnsureTemplateCoreAsync(explicitRequest: false, rebuild: false, cancellationToken).ConfigureAwait(false);
        PrivateFiles.CreateDirectory(poolDirectory);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var directory = Path.Combine(poolDirectory, id);
        var shared = Path.Combine(directory, "shared");
        PrivateFiles.CreateDirectory(directory);
        Directory.CreateDirectory(shared);
        QemuVm? vm = null;
        AgentClient? agent = null;
        try
        {
            vm = await StartCloneAsync(template, "pool-" + id, VmInstancePaths.InDirectory(directory), shared, cancellationToken).ConfigureAwait(false);
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            agent = await WaitForAgentAsync(vm, cancellationToken).ConfigureAwait(false);
            await vm.PauseAsync(cancellationToken).ConfigureAwait(false);
            return new PooledClone(vm, template, agent, directory, shared);
        }
        catch
        {
            if (agent is not null)
                await agent.DisposeAsync().ConfigureAwait(false);
            if (vm is not null)
                await vm.DisposeAsync().ConfigureAwait(false);
            FactoryVm.RemoveOwnedDirectory(directory, shared, _log);
            throw;
        }
    }

    internal Task<FactoryVm> HandOverAsync(PooledClone clone, VmRequest request, CancellationToken cancellationToken) =>
        FinishCloneAsync(clone.Vm, clone.Template, clone.Agent, request, VmOrigin.Pool, Stopwatch.StartNew(), clone.Directory, clone.SharedDirectory,
            clone.Directory, cancellationToken);

    private static void CheckRequest(VmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.RunDirectory) || !Directory.Exists(request.RunDirectory))
            throw StencilException.NotFound($"run directory \"{request.RunDirectory}\" of {request.Name} does not exist");
        if (request.SharedDirectory is not null && !Directory.Exists(request.SharedDirectory))
            throw StencilException.NotFound($"shared directory {request.SharedDirectory} of {request.Name} does not exist");
    }
}
