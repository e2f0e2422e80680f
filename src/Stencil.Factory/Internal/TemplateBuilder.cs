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
    /// <summary>Room a template needs beyond its memory file: the saved device state (a few MiB) and metadata.</summary>
    internal const long StateAllowanceBytes = 64L << 20;

    /// <summary>Below this much free space after a failed build, the tmpfs being full is named as the likely cause.</summary>
    private const long FullBelowBytes = 16L << 20;

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
        // The guest's RAM is a file on the tmpfs: a guest touching a page the tmpfs has no room for kills
        // QEMU with SIGBUS. Refused up front, with the figures, rather than found out that way.
        var needed = ((long)_options.Description.Memory.SizeMiB << 20) + StateAllowanceBytes;
        if (store.Tmpfs.AvailableBytes() is { } free && free < needed)
        {
            throw StencilException.FailedPrecondition(
                $"building template {fp}: the template tmpfs {store.Root} has {free >> 20} MiB free and a template of "
                + $"{_options.Description.Memory.SizeMiB} MiB needs {needed >> 20} MiB (remove what else is there, or `stencil factory destroy` and init again)");
        }
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
        // A tmpfs that fills up under the build (something else wrote there) does not kill QEMU under TCG:
        // the guest stalls on the page it cannot get, until the build timeout. Watched, it ends at once.
        using var watchEnd = new CancellationTokenSource();
        var tmpfsFull = new FullFlag();
        var watch = WatchTmpfsAsync(store, deadline, tmpfsFull, watchEnd.Token);
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
                // The flag is set before the watch cancels, so it is seen here however the threads interleave;
                // a cancelled step may end in a StencilException of kind Cancelled as well as in an OperationCanceledException.
                catch (Exception ex) when (ex is OperationCanceledException or StencilException { Kind: ErrorKind.Cancelled }
                    && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested && tmpfsFull.IsSet)
                {
                    throw new StencilException(ErrorKind.ResourceExhausted,
                        $"building template {fp} failed{FullNote(store)}; guest console: {ConsoleTail.Read(paths.ConsoleLog)}");
                }
                catch (Exception ex) when (ex is OperationCanceledException or StencilException { Kind: ErrorKind.Cancelled }
                    && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new StencilException(ErrorKind.DeadlineExceeded,
                        $"building template {fp}: not done within factory.template_build_timeout = {_options.TemplateBuildTimeout.TotalSeconds:0} s; guest console: {ConsoleTail.Read(paths.ConsoleLog)}");
                }
                catch (StencilException ex) when (ex.Kind != ErrorKind.Cancelled)
                {
                    throw new StencilException(ex.Kind, $"building template {fp} failed: {ex.Message}{FullNote(store)}; guest console: {ConsoleTail.Read(paths.ConsoleLog)}", ex);
                }
                catch (IOException ex)
                {
                    throw StencilException.Internal($"building template {fp} failed: {ex.Message}{FullNote(store)}", ex);
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
            await watchEnd.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            if (!succeeded)
                TemplateStore.TryDeleteTree(building);
        }
    }

    /// <summary>Set once, by the tmpfs watch, before it cancels the build.</summary>
    private sealed class FullFlag
    {
        private volatile bool _set;
        public bool IsSet => _set;
        public void Set() => _set = true;
    }

    /// <summary>Sets <paramref name="full"/> and then cancels <paramref name="build"/> if the tmpfs runs out of room before <paramref name="end"/>.</summary>
    private static async Task WatchTmpfsAsync(TemplateStore store, CancellationTokenSource build, FullFlag full, CancellationToken end)
    {
        try
        {
            while (!end.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), end).ConfigureAwait(false);
                if (store.Tmpfs.AvailableBytes() is { } free && free < FullBelowBytes)
                {
                    full.Set();
                    await build.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the build ended
        }
    }

    /// <summary>"; the template tmpfs X is full (N bytes free)" when it is nearly so: then QEMU's SIGBUS or a failed save is why.</summary>
    private static string FullNote(TemplateStore store) =>
        store.Tmpfs.AvailableBytes() is { } free && free < FullBelowBytes
            ? $"; the template tmpfs {store.Root} is full ({free} bytes free): a guest page or the saved state found no room"
            : "";

    private static string? Bounded(string? text) =>
        text is null ? null : new string([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
}
