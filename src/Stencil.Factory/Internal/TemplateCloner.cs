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
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            agent = await GuestReadiness.WaitForAgentAsync(vm, _options.AgentTimeout, cancellationToken).ConfigureAwait(false);
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

    public Task<FactoryVm> HandOverAsync(PooledClone clone, VmRequest request, CancellationToken cancellationToken) =>
        FinishCloneAsync(clone.Vm, clone.Template, clone.Agent, request, VmOrigin.Pool, Stopwatch.StartNew(), clone.Directory, clone.SharedDirectory,
            clone.Directory, cancellationToken);

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
    private async Task<FactoryVm> FinishCloneAsync(QemuVm vm, Template template, AgentClient? agent, VmRequest request, VmOrigin origin, Stopwatch clock,
        string runDirectory, string? sharedDirectory, string? ownedDirectory, CancellationToken cancellationToken)
    {
        FactoryVm? result = null;
        try
        {
            await vm.ResumeAsync(cancellationToken).ConfigureAwait(false);
            agent ??= await GuestReadiness.WaitForAgentAsync(vm, _options.AgentTimeout, cancellationToken).ConfigureAwait(false);
            await CloneFixUps.ApplyAsync(agent, cancellationToken).ConfigureAwait(false);
            template.RecordServed();
            result = new FactoryVm(vm, agent, origin, clock.Elapsed, runDirectory, sharedDirectory, template.Fingerprint, null, ownedDirectory, _log);
            await GuestReadiness.GrowAsync(result, request, cancellationToken).ConfigureAwait(false);
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
}
