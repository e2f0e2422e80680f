using System.Diagnostics;
using System.Security.Cryptography;
using Stencil.Agent.Client;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// Clones of the current template: QEMU started with the template's description, a share=off
/// mapping of its memory and a fresh vmgenid, the saved state loaded, then resumed and fixed up
/// (<see cref="CloneFixUps"/>) before anyone uses it. A template QEMU cannot restore is set aside
/// with QEMU's reason. Also the pool's source of clones, made ahead of time and handed over later.
/// </summary>
internal sealed class TemplateCloner : IPooledCloneSource
{
    /// <summary>The nice value of a pooled clone's QEMU while it is made and waits.</summary>
    internal const int PoolNice = 19;

    private readonly VmFactoryOptions _options;
    private readonly TemplateManager _templates;
    private readonly ILog _log;

    public TemplateCloner(VmFactoryOptions options, TemplateManager templates, ILog log)
    {
        _options = options;
        _templates = templates;
        _log = log;
    }

    /// <summary>A clone of <paramref name="template"/> for <paramref name="request"/>, running and fixed up.</summary>
    public async Task<FactoryVm> CloneAsync(Template template, VmRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var vm = await StartCloneAsync(template, request.Name, VmInstancePaths.InDirectory(request.RunDirectory), request.SharedDirectory, cancellationToken)
            .ConfigureAwait(false);
        return await FinishCloneAsync(vm, template, null, request, VmOrigin.TemplateClone, clock, request.RunDirectory, request.SharedDirectory, null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A clone for the pool, in a folder of its own under the pool directory (sockets and the 9p
    /// export, both fixed when QEMU starts). It is resumed once until its agent answers, then paused
    /// again: that first run fills QEMU's code translation cache and opens the agent connection, so
    /// the hand-over is only resume + fix-ups. Nothing runs in it before the fix-ups at hand-over.
    /// </summary>
    public async Task<PooledClone> MakeAsync(string poolDirectory, CancellationToken cancellationToken)
    {
        var (template, _, _) = await _templates.EnsureAsync(explicitRequest: false, rebuild: false, cancellationToken).ConfigureAwait(false);
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
            // Made at the lowest CPU priority: pods starting meanwhile go first (set back to 0 at hand-over).
            vm.SetNice(PoolNice);
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            agent = await GuestReadiness.WaitForAgentAsync(vm, _options.AgentTimeout, cancellationToken).ConfigureAwait(false);
            // The fix-ups once ahead of time: QEMU translates the guest code they run (TCG) and the
            // guest faults in the pages they touch now, not at the hand-over. They are applied again,
            // with fresh bytes and the time of that moment, when the clone is handed over.
            await CloneFixUps.ApplyAsync(agent, cancellationToken).ConfigureAwait(false);
            // Likewise the OCI runtime's container setup, once on a throw-away container: the pod's
            // first create then finds that code translated and those pages present.
            try
            {
                var warm = await agent.WarmUpAsync(cancellationToken).ConfigureAwait(false);
                _log.Debug($"pool: clone {id} warmed up (the OCI runtime ran once in {warm.TotalMilliseconds:F0} ms)");
            }
            catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
            {
                _log.Warning($"pool: clone {id}: the warm-up run failed (the clone is used anyway): {ex.Message}");
            }
            await WarmUpNicAsync(vm, agent, id, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// A CRI pod's first wait in its VM is its NIC: hot-plugged, found by the guest (ACPI hot-plug, PCI
    /// scan, virtio-net probe) and configured by the agent (busybox `ip`). Under TCG all that guest code
    /// is translated afresh in every QEMU process, so a pooled clone takes one NIC (user-mode backend,
    /// a documentation address) through the same steps and out again before it waits for a pod. A NIC
    /// that does not come out discards the clone: the shim that adopts it must find every root port free.
    /// </summary>
    private async Task WarmUpNicAsync(QemuVm vm, AgentClient agent, string id, CancellationToken cancellationToken)
    {
        if (vm.Description.HotplugRootPorts == 0)
            return;
        var clock = Stopwatch.StartNew();
        var bytes = RandomNumberGenerator.GetBytes(3);
        var mac = $"02:00:00:{bytes[0]:x2}:{bytes[1]:x2}:{bytes[2]:x2}"; // locally administered
        HotpluggedDevice nic;
        try
        {
            nic = await vm.AddNetworkAsync(NetworkSpec.User(mac), cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
        {
            _log.Warning($"pool: clone {id}: the NIC warm-up could not plug a NIC (the clone is used anyway): {ex.Message}");
            return;
        }
        try
        {
            var device = await agent.UpdateInterfaceAsync(new NetworkInterface("", mac, 1500,
                [new InterfaceAddress(System.Net.IPAddress.Parse("192.0.2.1"), 32)], Up: true), cancellationToken).ConfigureAwait(false);
            await agent.UpdateRoutesAsync([new NetworkRoute("192.0.2.128/25", null, device.Name)], cancellationToken).ConfigureAwait(false);
            await agent.UpdateRoutesAsync([], cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
        {
            _log.Warning($"pool: clone {id}: the NIC warm-up's configuration failed (the clone is used anyway): {ex.Message}");
        }
        await vm.RemoveDeviceAsync(nic, cancellationToken).ConfigureAwait(false);
        _log.Debug($"pool: clone {id}: a NIC went in, was configured and came out in {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>
    /// Gives a pooled clone to another process (the factory daemon's hand-over): the agent connection
    /// and QMP are closed (each socket takes one client at a time), QEMU stays paused and alive, and
    /// a marker in its folder says the folder is no longer this process's to clean. On failure the
    /// clone is discarded.
    /// </summary>
    public async Task<HandedOverClone> DetachAsync(PooledClone clone, string receiver, CancellationToken cancellationToken)
    {
        try
        {
            await clone.Agent.DisposeAsync().ConfigureAwait(false);
            var pid = await clone.Vm.DetachAsync(cancellationToken).ConfigureAwait(false);
            File.WriteAllText(Path.Combine(clone.Directory, HandedOverClone.MarkerName), receiver);
            return new HandedOverClone(clone.Vm.Name, pid, clone.Directory, clone.SharedDirectory, clone.Template.Fingerprint);
        }
        catch
        {
            await clone.DiscardAsync(_log).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Takes over a clone another process handed over (<see cref="DetachAsync"/> there): the caller
    /// has checked it is of this configuration's current template (it asked for that fingerprint);
    /// its folder must still be in this configuration's template path. Its QEMU is adopted, resumed and fixed
    /// up (RNG reseeded, clock set) like any clone, and its folder is owned from now on. On failure
    /// QEMU is killed and the folder removed.
    /// </summary>
    public async Task<FactoryVm> AttachAsync(HandedOverClone handed, VmRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        QemuVm? vm = null;
        Template template;
        // The agent connection is made while QMP is attached and before the VM resumes: the agent's
        // socket is QEMU's and accepts a client while the guest is paused; the first check waits in
        // the port's buffer and is answered as soon as the guest runs. Saves a round trip after resume.
        using var abandonAgent = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var paths = VmInstancePaths.InDirectory(handed.Directory);
        Task<AgentClient>? agent = null;
        try
        {
            // The asker sent its fingerprint with the request and checked the reply names it: no second
            // fingerprint computation here, only the template's folder, which must still be there.
            template = _templates.Store.TryOpen(handed.TemplateFingerprint)
                ?? throw StencilException.NotFound($"{request.Name}: template {handed.TemplateFingerprint} of the handed-over clone {handed.Name} is not in {_templates.Store.Root}");
            var instance = VmInstance.ForClone(paths, template.MemoryFile) with
            {
                Name = request.Name,
                SharedDirectory = handed.SharedDirectory,
            };
            agent = AgentClient.WaitReadyAsync(paths.AgentSocket, _options.AgentTimeout, abandonAgent.Token);
            vm = await QemuVm.AttachAsync(_options.Description, instance, handed.ProcessId, _options.Qemu, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await abandonAgent.CancelAsync().ConfigureAwait(false);
            await DisposeQuietlyAsync(agent).ConfigureAwait(false);
            // The clone is ours to clean now, whatever state it is in.
            if (vm is not null)
                await vm.DisposeAsync().ConfigureAwait(false);
            else
                PoolDirectory.KillClone(handed.Directory, _log);
            FactoryVm.RemoveOwnedDirectory(handed.Directory, handed.SharedDirectory, _log);
            throw;
        }
        return await FinishCloneAsync(vm, template, null, request, VmOrigin.Pool, clock, handed.Directory, handed.SharedDirectory, handed.Directory,
            cancellationToken, agent, abandonAgent).ConfigureAwait(false);
    }

    private static async Task DisposeQuietlyAsync(Task<AgentClient>? connecting)
    {
        if (connecting is null)
            return;
        try
        {
            await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or StencilException or IOException or System.Net.Sockets.SocketException)
        {
        }
    }

    public Task<FactoryVm> HandOverAsync(PooledClone clone, VmRequest request, CancellationToken cancellationToken) =>
        FinishCloneAsync(clone.Vm, clone.Template, clone.Agent, request, VmOrigin.Pool, Stopwatch.StartNew(), clone.Directory, clone.SharedDirectory,
            clone.Directory, cancellationToken);

    /// <summary>
    /// A clone restored from a checkpoint: QEMU started stopped over <paramref name="memoryFile"/> (the
    /// template's, or a zero base), the checkpoint's disks plugged where they were, its pages written
    /// and its device state loaded; then the agent is connected (after the load: the guest sees the old
    /// link close and a new one open, and the client's stream ids start past the old client's) and the
    /// clone is resumed and fixed up like any other.
    /// </summary>
    public async Task<FactoryVm> RestoreAsync(Template? template, VmCheckpoint checkpoint, string memoryFile, string folder,
        IReadOnlyList<(VmCheckpointDisk Disk, string HostPath)> disks, VmRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var paths = VmInstancePaths.InDirectory(request.RunDirectory);
        var instance = VmInstance.ForClone(paths, memoryFile) with
        {
            Name = request.Name,
            SharedDirectory = request.SharedDirectory,
            VmGenId = _options.Description.VmGenId ? Guid.NewGuid() : null,
            LoadsDeviceState = true,
        };
        var vm = QemuVm.Create(_options.Description, instance, _options.Qemu);
        var plugged = new List<(VmCheckpointDisk, HotpluggedDevice)>();
        using var abandonAgent = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<AgentClient> agent;
        var steps = Stopwatch.StartNew();
        try
        {
            await vm.StartAsync(cancellationToken).ConfigureAwait(false);
            var started = steps.Elapsed;
            foreach (var (disk, hostPath) in disks)
            {
                var device = await vm.AddDiskAsync(new DiskSpec(hostPath) { ReadOnly = disk.ReadOnly, Serial = disk.Serial, RootPort = disk.RootPort }, cancellationToken)
                    .ConfigureAwait(false);
                plugged.Add((disk, device));
            }
            var pages = await vm.LoadMemoryPagesAsync(Path.Combine(folder, VmCheckpoint.MemoryFileName), cancellationToken).ConfigureAwait(false);
            var written = steps.Elapsed;
            await vm.LoadDeviceStateAsync(Path.Combine(folder, VmCheckpoint.DeviceStateFileName), cancellationToken).ConfigureAwait(false);
            _log.Debug($"{request.Name}: restored from a checkpoint: qemu started {started.TotalMilliseconds:F0} ms, {disks.Count} disk(s) plugged and " +
                $"{pages} pages written +{(written - started).TotalMilliseconds:F0} ms, device state loaded +{(steps.Elapsed - written).TotalMilliseconds:F0} ms");
            agent = AgentClient.WaitReadyAsync(paths.AgentSocket, _options.AgentTimeout, checkpoint.AgentNextStreamId | 1, abandonAgent.Token);
        }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var result = await FinishCloneAsync(vm, template, null, request, VmOrigin.Checkpoint, clock, request.RunDirectory, request.SharedDirectory, null,
            cancellationToken, agent, abandonAgent, checkpoint.TemplateFingerprint).ConfigureAwait(false);
        result.AdoptDisks(plugged);
        return result;
    }

    /// <summary>
    /// Starts QEMU for a clone (same description, share=off mapping of the template's memory, a fresh
    /// vmgenid, -incoming defer) and loads the template's state: the clone is then paused. If QEMU
    /// exits over the template (a corrupt state file, a command line the state does not fit), the
    /// template is set aside with QEMU's message, so no later VM tries it again.
    /// </summary>
    private async Task<QemuVm> StartCloneAsync(Template template, string name, VmInstancePaths paths, string? sharedDirectory, CancellationToken cancellationToken)
    {
        var stateInode = FileFacts.Read(template.StateFile)?.Inode
            ?? throw StencilException.NotFound($"template {template.Fingerprint}: its state file {template.StateFile} is gone");
        var instance = VmInstance.ForClone(paths, template.MemoryFile) with
        {
            Name = name,
            SharedDirectory = sharedDirectory,
            // The guest kernel reseeds its RNG when it sees a new generation id: every clone gets its own.
            VmGenId = _options.Description.VmGenId ? Guid.NewGuid() : null,
        };
        var vm = QemuVm.Create(_options.Description, instance, _options.Qemu);
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
            if (ex is StencilException se && IsTemplateFault(se, restoring, vm.ExitReason))
            {
                _templates.SetAside(template, stateInode, se.Message);
                throw new StencilException(se.Kind, $"template {template.Fingerprint} failed to restore and was set aside: {se.Message}", se);
            }
            throw;
        }
    }

    /// <summary>
    /// Whether a clone's failure is its template's. While the state loads, any failure of QEMU or of
    /// the migration is: the state is what QEMU reads then. At start, only QEMU exiting over the
    /// template's memory file is (its size, or the file itself); anything else is this clone's own.
    /// </summary>
    internal static bool IsTemplateFault(StencilException ex, bool restoring, QemuExitReason? exitReason)
    {
        if (restoring)
            return ex.Kind is ErrorKind.Unavailable or ErrorKind.Internal;
        return ex.Kind == ErrorKind.Unavailable && exitReason is QemuExitReason.MemorySizeMismatch or QemuExitReason.MemoryFileUnusable;
    }

    /// <summary>
    /// Resume, then the fix-ups before anything runs in the guest: the agent answers, the guest's RNG
    /// gets 512 bytes from the host's, its clock the host's time; then the VM grows to the requested
    /// size. A pooled clone comes with its agent connection already open.
    /// </summary>
    private async Task<FactoryVm> FinishCloneAsync(QemuVm vm, Template? template, AgentClient? agent, VmRequest request, VmOrigin origin, Stopwatch clock,
        string runDirectory, string? sharedDirectory, string? ownedDirectory, CancellationToken cancellationToken,
        Task<AgentClient>? agentConnecting = null, CancellationTokenSource? abandonAgent = null, string? fingerprint = null)
    {
        FactoryVm? result = null;
        var steps = Stopwatch.StartNew();
        try
        {
            var before = clock.Elapsed;
            if (origin == VmOrigin.Pool && vm.SetNice(0) > 0)
                _log.Warning($"{request.Name}: some QEMU threads of the pooled clone kept nice {PoolNice}");
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            var resumed = steps.Elapsed;
            if (agent is null && agentConnecting is not null && abandonAgent is not null)
            {
                // Fails at once (with QEMU's reason) if QEMU exits meanwhile.
                var connecting = agentConnecting;
                agentConnecting = null;
                agent = await GuestReadiness.AwaitAgentAsync(vm, connecting, abandonAgent, cancellationToken).ConfigureAwait(false);
            }
            agent ??= await GuestReadiness.WaitForAgentAsync(vm, _options.AgentTimeout, cancellationToken).ConfigureAwait(false);
            var answered = steps.Elapsed;
            await CloneFixUps.ApplyAsync(agent, cancellationToken).ConfigureAwait(false);
            _log.Debug($"{request.Name}: {FactoryVm.OriginText(origin)} {before.TotalMilliseconds:F1} ms before resume; resume {resumed.TotalMilliseconds:F1} ms, " +
                $"agent answered +{(answered - resumed).TotalMilliseconds:F1} ms, reseed and clock +{(steps.Elapsed - answered).TotalMilliseconds:F1} ms");
            template?.RecordServed();
            result = new FactoryVm(vm, agent, origin, clock.Elapsed, runDirectory, sharedDirectory, template?.Fingerprint ?? fingerprint, null, ownedDirectory, _log);
            await GuestReadiness.GrowAsync(result, request, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            if (abandonAgent is not null)
                await abandonAgent.CancelAsync().ConfigureAwait(false);
            await DisposeQuietlyAsync(agentConnecting).ConfigureAwait(false);
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
}
