using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.Oci;

namespace Stencil.Runtime.Pod;

// Checkpoint and restore of a whole pod VM (Task.Checkpoint; Create with a checkpoint folder). What the
// folder holds: stencil-checkpoint.json (this file's record), the VM's memory pages and device state
// (the factory's files), and the container's root disk as a page file (its non-zero blocks).
public sealed partial class PodRuntime
{
    internal const string CheckpointFileName = "stencil-checkpoint.json";
    internal const string RootfsPagesFileName = "rootfs.pages";
    internal const int CheckpointFormat = 1;

    /// <summary>
    /// Saves the pod's VM and what this runtime needs to serve it again into <paramref name="folder"/>.
    /// The VM is paused meanwhile and resumed after, or (<paramref name="exit"/>) the container is killed
    /// (its exit is reported as usual). Refused, naming why: a pod of more than one container, a root
    /// file system on the 9p share (QEMU cannot save a VM while its guest has the share mounted), exec'd
    /// processes still running, a pod network.
    /// </summary>
    public async Task CheckpointAsync(string id, string folder, bool exit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        PodContainer container;
        lock (_gate)
        {
            container = Get(id);
            if (_containers.Count != 1 || _creating.Count > 0 || SandboxHolds)
                throw StencilException.FailedPrecondition($"checkpoint of {id}: pod {_options.PodId} has {ContainerCount} containers; a checkpoint is of a pod of one container (ctr run)");
            var running = container.Execs.Values.Where(e => e.Lifecycle.State is ProcessState.Running or ProcessState.Paused).Select(e => e.ExecId).ToList();
            if (running.Count > 0)
                throw StencilException.FailedPrecondition($"checkpoint of {id}: exec'd processes still run ({string.Join(", ", running)}); a checkpoint keeps the container's init process only");
        }
        if (container.RootfsImage is not { } image || container.RootfsDisk is not { } rootDisk)
            throw StencilException.FailedPrecondition($"checkpoint of {id}: {NinePShareBlocker} (its root file system is shared over 9p; [hypervisor] shared_fs = \"none\" puts it on a disk)");
        if (container.Devices.Count != 1)
            throw StencilException.FailedPrecondition($"checkpoint of {id}: the container has host devices ({string.Join(", ", container.Devices.Where(d => d != rootDisk).Select(d => d.HostPath))}), which a checkpoint does not keep");
        if (_sandbox.HasNetwork)
            throw StencilException.FailedPrecondition($"checkpoint of {id}: the pod has a network; a checkpoint keeps no network yet");
        var state = container.Init.Lifecycle.State;
        if (state is not (ProcessState.Running or ProcessState.Paused))
            throw StencilException.FailedPrecondition($"checkpoint of {id}: its init process is {state.ToString().ToLowerInvariant()}, not running");
        if (!Directory.Exists(folder))
            throw StencilException.NotFound($"checkpoint of {id}: folder {folder} does not exist");

        var vm = _sandbox.RequireVm();
        var vmCheckpoint = await vm.CheckpointAsync(folder, _options.CheckpointFullMemory, cancellationToken).ConfigureAwait(false);
        var vmMs = clock.Elapsed.TotalMilliseconds;
        try
        {
            // The disk as the paused guest left it: QEMU drained its requests when the VM stopped.
            var blocks = DiskPages.Save(image, Path.Combine(folder, RootfsPagesFileName));
            var record = new PodCheckpointRecord
            {
                Format = CheckpointFormat,
                ContainerId = id,
                Paused = state == ProcessState.Paused,
                Terminal = container.Init.Stdio.Terminal,
                RootfsSerial = rootDisk.Serial,
                RootfsBytes = new FileInfo(image).Length,
                Vm = vmCheckpoint,
                Files = HashFiles(folder, [VmCheckpoint.MemoryFileName, VmCheckpoint.DeviceStateFileName, RootfsPagesFileName]),
            };
            File.WriteAllBytes(Path.Combine(folder, CheckpointFileName), JsonSerializer.SerializeToUtf8Bytes(record, CheckpointJsonContext.Default.PodCheckpointRecord));
            _log.Info($"container {id}: checkpoint in {folder}: memory {vmCheckpoint.Memory} ({vmCheckpoint.MemoryPages} pages), root disk {blocks} blocks; " +
                $"vm saved in {vmMs:F0} ms, all in {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await vm.ResumeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        if (exit)
            await KillAsync(id, null, 9, all: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Create from a checkpoint folder: the pod's VM restored (with its root disk rebuilt from the page
    /// file into this container's folder), the container known to this runtime with its init process as
    /// it was in the guest; stdio forwarding to the new FIFOs. Start then only marks it running (and
    /// resumes it, had it been paused). Every file is checked against its recorded SHA-256 first.
    /// </summary>
    private async Task<uint> RestoreAsync(CreateContainerRequest request, string folder, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var record = ReadCheckpoint(folder, request.Id);
        var bundle = Bundle.Load(request.Bundle);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_containers.Count > 0 || _creating.Count > 0)
                throw StencilException.FailedPrecondition($"restore of {request.Id}: pod {_options.PodId} has containers already; a checkpoint is restored into a pod of its own");
            if (!_creating.Add(request.Id))
                throw StencilException.AlreadyExists($"container \"{request.Id}\" already exists");
        }
        var init = new PodProcess(request.Id, "", request.Stdio, ReadOnlyMemory<byte>.Empty);
        var container = new PodContainer(request.Id, bundle, init, request.RootfsMounts) { RestoredFrom = record };
        ProcessOutputs? outputs = null;
        try
        {
            if (request.Stdio.Terminal != record.Terminal)
                throw StencilException.InvalidArgument($"restore of {request.Id}: the checkpointed process {(record.Terminal ? "had" : "had no")} terminal; the request asks for the opposite");
            StdioForwarder.Targets(request.Stdio);
            var containerDir = _options.Paths.ContainerDir(_options.Namespace, _options.PodId, request.Id);
            Directory.CreateDirectory(containerDir);
            var image = Path.Combine(containerDir, HostStorage.RootfsImageFile);
            container.RootfsImage = image;
            DiskPages.Restore(Path.Combine(folder, RootfsPagesFileName), image, record.RootfsBytes);
            var rootDisk = record.Vm.Disks.FirstOrDefault(d => d.Serial == record.RootfsSerial)
                ?? throw StencilException.InvalidArgument($"restore of {request.Id}: {CheckpointFileName} names root disk {record.RootfsSerial}, which its VM did not have");
            var diskMs = clock.Elapsed.TotalMilliseconds;

            var vm = await _sandbox.RestoreVmAsync(PodVmSpec.FromBundle(request.Id, bundle), record.Vm, folder, [(rootDisk, image)], cancellationToken).ConfigureAwait(false);
            container.Devices.Add(new AttachedDevice(rootDisk.Serial, image, "/"));
            container.CreatedInGuest = true;
            outputs = await StdioForwarder.PrepareAsync(request.Stdio, _options.Namespace, request.Id, null, _log, cancellationToken).ConfigureAwait(false);
            init.Pid = TaskPid(0);
            init.Forwarder = StdioForwarder.Start(vm.Agent, request.Id, null, request.Stdio, _log, outputs);
            outputs = null;
            init.Waiter = WaitForExitAsync(vm, init);
            AddCreated(request, container, init.Pid);
            _log.Info($"container {request.Id} restored from {folder} (memory {record.Vm.Memory}): root disk {diskMs:F0} ms, " +
                $"vm {vm.StartupTime.TotalMilliseconds:F0} ms, all {clock.Elapsed.TotalMilliseconds:F0} ms");
            return init.Pid;
        }
        catch
        {
            lock (_gate)
                _creating.Remove(request.Id);
            if (outputs is not null)
                await outputs.DisposeAsync().ConfigureAwait(false);
            await CleanupContainerAsync(container, removeInGuest: false, removeStorage: false).ConfigureAwait(false);
            await StopVmIfIdleAsync(container.Devices).ConfigureAwait(false);
            _storage.Remove(container);
            throw;
        }
    }

    /// <summary>The start of a restored container: its process runs already (resumed here had it been paused when saved).</summary>
    private async Task StartRestoredAsync(PodContainer container, PodProcess process, CancellationToken cancellationToken)
    {
        if (container.RestoredFrom is { Paused: true })
            await _sandbox.RequireVm().Agent.ResumeContainerAsync(container.Id, cancellationToken).ConfigureAwait(false);
        container.RestoredFrom = null;
        process.Lifecycle.Started(process.Pid);
        Publish(new TaskStarted(DateTimeOffset.UtcNow, container.Id, process.Pid));
    }

    /// <summary>Why a pod on the 9p share cannot be saved: QEMU blocks migration while a guest has a 9p export mounted.</summary>
    private const string NinePShareBlocker = "QEMU cannot save a VM while the containers' 9p share is mounted in its guest";

    private static PodCheckpointRecord ReadCheckpoint(string folder, string id)
    {
        var path = Path.Combine(folder, CheckpointFileName);
        PodCheckpointRecord? record;
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 1 << 20)
                throw StencilException.InvalidArgument($"restore of {id}: {path} is {bytes.Length} bytes, more than a checkpoint record can be");
            record = JsonSerializer.Deserialize(bytes, CheckpointJsonContext.Default.PodCheckpointRecord);
        }
        catch (FileNotFoundException ex)
        {
            throw new StencilException(ErrorKind.InvalidArgument, $"restore of {id}: {folder} is not a Stencil checkpoint (no {CheckpointFileName})", ex);
        }
        catch (JsonException ex)
        {
            throw new StencilException(ErrorKind.InvalidArgument, $"restore of {id}: {path} is damaged: {ex.Message}", ex);
        }
        if (record is null || record.Vm is null || record.Files is null)
            throw StencilException.InvalidArgument($"restore of {id}: {path} is incomplete");
        if (record.Format != CheckpointFormat)
            throw StencilException.InvalidArgument($"restore of {id}: {path} has format {record.Format}, this runtime reads {CheckpointFormat}");
        foreach (var name in new[] { VmCheckpoint.MemoryFileName, VmCheckpoint.DeviceStateFileName, RootfsPagesFileName })
        {
            if (!record.Files.TryGetValue(name, out var expected))
                throw StencilException.InvalidArgument($"restore of {id}: {path} has no checksum for {name}");
            var file = Path.Combine(folder, name);
            if (!File.Exists(file))
                throw StencilException.InvalidArgument($"restore of {id}: the checkpoint has no {name}");
            var actual = Sha256(file);
            if (actual != expected)
                throw StencilException.InvalidArgument($"restore of {id}: {name} is damaged (sha256 {actual}, the checkpoint recorded {expected})");
        }
        return record;
    }

    private static Dictionary<string, string> HashFiles(string folder, IEnumerable<string> names) =>
        names.ToDictionary(n => n, n => Sha256(Path.Combine(folder, n)), StringComparer.Ordinal);

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
