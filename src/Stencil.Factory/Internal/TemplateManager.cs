using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// The template of the current configuration: its fingerprint (hashing what changed since last
/// time), building it on first need under the store's lock (so concurrent shims build it once),
/// removing stale ones, setting aside one that failed, giving up after repeated failures, listing
/// and destroying them.
/// </summary>
internal sealed class TemplateManager
{
    /// <summary>
    /// After a template of one fingerprint failed (to build, or a clone to restore) this many times,
    /// it is no longer rebuilt automatically (each attempt would cost a template boot per pod): VMs
    /// are cold booted until `stencil factory init` builds it again.
    /// </summary>
    public const int MaxAutomaticRebuilds = 2;

    private static readonly TimeSpan s_lockMargin = TimeSpan.FromSeconds(30);

    private readonly VmFactoryOptions _options;
    private readonly TemplateBuilder _builder;
    private readonly FileHashCache _hashes;
    private readonly ILog _log;
    private int _built;

    public TemplateManager(VmFactoryOptions options, ILog log)
    {
        _options = options;
        _log = log;
        Store = new TemplateStore(options.TemplatePath);
        _builder = new TemplateBuilder(options, log);
        _hashes = new FileHashCache(Store.HashCacheFile);
    }

    public TemplateStore Store { get; }

    /// <summary>Templates this object built (tests: concurrent first use builds once).</summary>
    public int Built => Volatile.Read(ref _built);

    /// <summary>
    /// The Ready template of the current fingerprint, built if Absent. The automatic path
    /// (<paramref name="explicitRequest"/> false) refuses a SetAside one; `stencil factory init`
    /// builds it anyway, and (<paramref name="rebuild"/>) replaces a Ready one.
    /// </summary>
    public async Task<(Template Template, bool Built, IReadOnlyList<string> Removed)> EnsureAsync(bool explicitRequest, bool rebuild,
        CancellationToken cancellationToken)
    {
        var fingerprint = await ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false);
        var fp = fingerprint.Fingerprint;
        if (Usable(fp, explicitRequest, rebuild) is { } existing)
            return (existing, false, []);

        using var held = await FileLock.AcquireAsync(Store.LockPath, _options.TemplateBuildTimeout + s_lockMargin, $"template {fp} is being built", cancellationToken)
            .ConfigureAwait(false);
        if (Store.Tmpfs.EnsureMounted(_options.TemplateTmpfsBytes))
            _log.Info($"mounted a tmpfs for templates on {Store.Root} ({_options.TemplateTmpfsBytes >> 20} MiB, nosuid, nodev, mode 0700)");
        // Someone may have built it (or given up on it) while this process waited for the lock.
        if (Usable(fp, explicitRequest, rebuild) is { } builtMeanwhile)
            return (builtMeanwhile, false, []);

        var removed = Store.RemoveStale(fp);
        if (removed.Count > 0)
            _log.Info($"removed stale templates from {Store.Root}: {string.Join(", ", removed)} (running clones keep their memory)");
        Template template;
        try
        {
            template = await _builder.BuildAsync(Store, fingerprint, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled && !cancellationToken.IsCancellationRequested)
        {
            Store.RecordFailedBuild(fp, ex.Message);
            _log.Warning($"template {fp}: {ex.Message}");
            throw;
        }
        Interlocked.Increment(ref _built);
        if (explicitRequest)
            Store.ForgetSetAside(fp);
        _hashes.Save();
        return (template, true, removed);
    }

    /// <summary>The Ready template to use as is; null: build one. Throws when the automatic path must not build a SetAside one.</summary>
    private Template? Usable(string fingerprint, bool explicitRequest, bool rebuild)
    {
        var state = Store.StateOf(fingerprint, MaxAutomaticRebuilds, out var ready);
        if (state == TemplateState.Ready && !rebuild)
            return ready;
        if (state == TemplateState.SetAside && !explicitRequest)
            throw GivenUp(fingerprint);
        return null;
    }

    private StencilException GivenUp(string fingerprint)
    {
        var setAside = Store.ListSetAside().Where(s => s.Fingerprint == fingerprint).ToList();
        var last = setAside.Count > 0 ? setAside[0].Reason : "(no reason recorded)";
        return StencilException.FailedPrecondition(
            $"template {fingerprint} failed {setAside.Count} times (last: {last}); it is not rebuilt automatically: run `stencil factory init` to build it again");
    }

    /// <summary>
    /// Renames a template a clone failed to restore out of the way (with QEMU's reason), so no later
    /// VM tries it again; only if it still holds the state file that failed.
    /// </summary>
    public void SetAside(Template template, ulong failedStateInode, string reason)
    {
        var where = Store.SetAside(template, failedStateInode, reason);
        _log.Warning($"template {template.Fingerprint} set aside{(where is null ? "" : " as " + where)}: {reason}");
    }

    public async Task<ResolvedFingerprint> ResolveFingerprintAsync(CancellationToken cancellationToken)
    {
        var description = _options.Description;
        var kernel = description.Kernel ?? throw StencilException.InvalidArgument("the VM description has no kernel: a template needs direct kernel boot");
        var qemuPath = QemuBinary.Resolve(_options.Qemu.QemuBinary)
            ?? throw StencilException.NotFound($"QEMU binary {_options.Qemu.QemuBinary} not found (install qemu-system-x86, or set [hypervisor] path)");
        var qemu = await _hashes.GetAsync(qemuPath, "QEMU binary", QemuBinary.ReadVersionAsync, cancellationToken).ConfigureAwait(false);
        var kernelHash = await _hashes.GetAsync(kernel.KernelPath, "guest kernel", null, cancellationToken).ConfigureAwait(false);
        var initrdHash = kernel.InitrdPath is null ? null : await _hashes.GetAsync(kernel.InitrdPath, "guest initrd", null, cancellationToken).ConfigureAwait(false);
        var firmwareHash = description.FirmwarePath is null ? null : await _hashes.GetAsync(description.FirmwarePath, "firmware", null, cancellationToken).ConfigureAwait(false);
        var text = TemplateFingerprint.Text(new TemplateFingerprint.Inputs(qemu.Version!, qemu.Sha256, kernelHash.Sha256, initrdHash?.Sha256, firmwareHash?.Sha256, description));
        _hashes.Save();
        return new ResolvedFingerprint(TemplateFingerprint.Hash(text), text, qemuPath, qemu.Version!, qemu.Sha256,
            kernel.KernelPath, kernelHash.Sha256, kernel.InitrdPath, initrdHash?.Sha256);
    }

    /// <summary>What `stencil factory status` shows; a fingerprint that cannot be computed is reported, not thrown.</summary>
    public async Task<FactoryStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        string? current = null;
        string? problem = null;
        try
        {
            current = (await ResolveFingerprintAsync(cancellationToken).ConfigureAwait(false)).Fingerprint;
        }
        catch (StencilException ex)
        {
            problem = ex.Message;
        }
        var mounted = Store.Tmpfs.IsTmpfsMountPoint;
        return new FactoryStatus(
            Store.Root,
            mounted,
            mounted && Store.Tmpfs.MountedByStencil,
            current,
            problem,
            [.. Store.ListTemplates().Select(t => ToStatus(t, current))],
            [.. Store.ListSetAside().Select(s => new SetAsideTemplate(s.Fingerprint, s.Directory, s.When, s.Reason))]);
    }

    /// <summary>Under the lock: every template and set-aside folder removed, the tmpfs unmounted if Stencil mounted it.</summary>
    public async Task<FactoryDestroyResult> DestroyAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.GetDirectoryName(Store.LockPath)))
            return new FactoryDestroyResult(0, 0, false);
        using var held = await FileLock.AcquireAsync(Store.LockPath, _options.TemplateBuildTimeout + s_lockMargin, "destroying the templates", cancellationToken)
            .ConfigureAwait(false);
        var templates = Store.ListTemplates().Count;
        var setAside = Store.ListSetAside().Count;
        Store.RemoveAll();
        var unmounted = Store.Tmpfs.UnmountIfOurs();
        _log.Info($"templates destroyed in {Store.Root}: {templates} templates, {setAside} set aside{(unmounted ? ", tmpfs unmounted" : "")}");
        return new FactoryDestroyResult(templates, setAside, unmounted);
    }

    public static TemplateStatus ToStatus(Template template, string? current)
    {
        var m = template.ReadMetadata();
        var memory = FileFacts.Read(template.MemoryFile);
        var state = FileFacts.Read(template.StateFile);
        return new TemplateStatus(template.Fingerprint, template.Directory, template.Fingerprint == current, m.Created, TimeSpan.FromSeconds(m.BuildSeconds),
            memory?.Size ?? 0, memory?.AllocatedBytes ?? 0, state?.Size ?? 0, template.ClonesServed, m.QemuVersion, m.Kernel, m.Initrd, m.Machine,
            m.Accelerator, m.Vcpus, m.MemoryMiB, m.FingerprintText, m.AgentVersion, m.GuestKernelRelease);
    }
}
