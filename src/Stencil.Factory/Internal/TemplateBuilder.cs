using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Stencil.Agent.Client;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// Builds one template (call under the store's lock): boots a template VM whose guest RAM is a new
/// share=on file on the tmpfs, waits until the agent answers, drops the connection (each clone's host
/// connects afresh), pauses, saves the device state with x-ignore-shared, quits, writes metadata.json,
/// and only then renames the folder to its fingerprint, so a half-built template is never used.
/// </summary>
internal sealed class TemplateBuilder
{
    private readonly VmFactoryOptions _options;
    private readonly ILog _log;

    public TemplateBuilder(VmFactoryOptions options, ILog log)
    {
        _options = options;
        _log = log;
    }

    public async Task<Template> BuildAsync(TemplateStore store, ResolvedFingerprint fingerprint, CancellationToken cancellationToken)
    {
        var fp = fingerprint.Fingerprint;
        var building = store.BuildingDirectoryOf(fp);
        TemplateStore.TryDeleteTree(building);
        PrivateFiles.CreateDirectory(building);
        var description = _options.Description;
        var export = Path.Combine(building, "export");
        if (description.SharedFolder is not null)
            PrivateFiles.CreateDirectory(export);
        var memoryFile = Path.Combine(building, Template.MemoryName);
        var stateFile = Path.Combine(building, Template.StateName);
        var paths = VmInstancePaths.InDirectory(building);
        var instance = VmInstance.ForTemplate(paths, memoryFile) with
        {
            Name = "template-" + fp[..8],
            // The 9p device is part of the saved state, so the template has it; it is never mounted
            // in the template guest (a mounted 9p export blocks the save), and each clone points it
            // at its own pod's folder.
            SharedDirectory = description.SharedFolder is null ? null : export,
        };

        _log.Info($"building template {fp} in {store.Root} ({description.Memory.SizeMiB} MiB, {description.Cpus.Boot} vCPU, {description.Accelerator})");
        var clock = Stopwatch.StartNew();
        var succeeded = false;
        GuestDetails? guest = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.TemplateBuildTimeout);
        try
        {
            await using (var vm = QemuVm.Create(description, instance, _options.Qemu))
            {
                try
                {
                    await vm.StartAsync(deadline.Token).ConfigureAwait(false);
                    var remaining = _options.TemplateBuildTimeout - clock.Elapsed;
                    await using (var agent = await AgentClient.WaitReadyAsync(paths.AgentSocket, remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1), deadline.Token)
                        .ConfigureAwait(false))
                    {
                        // What a clone would otherwise do first, done once here and kept in the snapshot: the OCI
                        // runtime's one-time work and a namespace holder for a pod without a pause container.
                        await agent.WarmUpAsync(deadline.Token).ConfigureAwait(false);
                        guest = await agent.GetGuestDetailsAsync(deadline.Token).ConfigureAwait(false);
                    }
                    await vm.PauseAsync(deadline.Token).ConfigureAwait(false);
                    await vm.SaveAsync(stateFile, deadline.Token).ConfigureAwait(false);
                    await vm.ShutdownAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new StencilException(ErrorKind.DeadlineExceeded,
                        $"building template {fp}: not done within factory.template_build_timeout = {_options.TemplateBuildTimeout.TotalSeconds:0} s; guest console: {ConsoleTail.Read(paths.ConsoleLog)}");
                }
                catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
                {
                    throw new StencilException(ex.Kind, $"building template {fp} failed: {ex.Message}; guest console: {ConsoleTail.Read(paths.ConsoleLog)}", ex);
                }
            }

            var memory = FileFacts.Read(memoryFile) ?? throw StencilException.Internal($"building template {fp}: QEMU left no memory file {memoryFile}");
            var state = FileFacts.Read(stateFile) ?? throw StencilException.Internal($"building template {fp}: no state file {stateFile} after the save");
            var metadata = new TemplateMetadata
            {
                Fingerprint = fp,
                Created = DateTimeOffset.UtcNow,
                BuildSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
                QemuBinary = fingerprint.QemuBinary,
                QemuVersion = fingerprint.QemuVersion,
                QemuSha256 = fingerprint.QemuSha256,
                Kernel = fingerprint.KernelPath,
                KernelSha256 = fingerprint.KernelSha256,
                Initrd = fingerprint.InitrdPath,
                InitrdSha256 = fingerprint.InitrdSha256,
                Machine = description.Machine,
                Accelerator = description.Accelerator.ToString().ToLowerInvariant(),
                Vcpus = description.Cpus.Boot,
                MaxVcpus = description.Cpus.Max,
                MemoryMiB = description.Memory.SizeMiB,
                MaxMemoryMiB = description.Memory.MaxMiB,
                MemoryFileBytes = memory.Size,
                MemoryFileAllocatedBytes = memory.AllocatedBytes,
                StateFileBytes = state.Size,
                FingerprintText = fingerprint.Text,
                // The guest's words, kept for `stencil env`: bounded.
                AgentVersion = Bounded(guest?.AgentVersion),
                GuestKernelRelease = Bounded(guest?.KernelRelease),
            };
            if (Directory.Exists(export))
                Directory.Delete(export);
            await File.WriteAllBytesAsync(Path.Combine(building, Template.MetadataName),
                JsonSerializer.SerializeToUtf8Bytes(metadata, FactoryJsonContext.Default.TemplateMetadata), cancellationToken).ConfigureAwait(false);

            var final = store.DirectoryOf(fp);
            TemplateStore.TryDeleteTree(final);
            Directory.Move(building, final);
            succeeded = true;
            _log.Info(string.Create(CultureInfo.InvariantCulture,
                $"template {fp} built in {clock.Elapsed.TotalSeconds:F2} s: memory {memory.Size >> 20} MiB ({memory.AllocatedBytes >> 20} MiB allocated), state {state.Size >> 10} KiB"));
            return new Template(fp, final);
        }
        finally
        {
            if (!succeeded)
                TemplateStore.TryDeleteTree(building);
        }
    }

    private static string? Bounded(string? text) =>
        text is null ? null : new string([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
}
