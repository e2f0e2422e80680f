using System.Globalization;
using Stencil.Agent.Client;
using Stencil.Hypervisor;
using Stencil.Interop;

namespace Stencil.Factory;

/// <summary>
/// A VM the factory handed over: running, its agent connected and answering, and (for a clone) fixed
/// up: fresh vmgenid, RNG reseeded from the host, clock set. Device changes (disks, vCPUs, memory)
/// go through here so the guest side is completed too. Disposing it kills QEMU and removes what the
/// factory created for it (a pooled clone's folder); the caller's folders are the caller's.
/// </summary>
public sealed class FactoryVm : IAsyncDisposable
{
    /// <summary>virtio-blk serials are at most 20 bytes; "stencil-d" + a counter fits.</summary>
    private const string DiskSerialPrefix = "stencil-d";

    private static readonly TimeSpan s_memoryOnlineTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _deviceLock = new(1, 1);
    private readonly Dictionary<string, HotpluggedDevice> _disks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _readOnlyDisks = new(StringComparer.Ordinal);
    private readonly string? _ownedDirectory;
    private readonly ILog _log;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextDisk;
    private int _hotAddedMemoryMiB;
    private int _dimms;
    private ulong _memoryBlockBytes;
    private int _disposed;
    private string? _exitReason;

    internal FactoryVm(QemuVm qemu, AgentClient agent, VmOrigin origin, TimeSpan startupTime, string runDirectory, string? sharedDirectory,
        string? templateFingerprint, string? fallbackReason, string? ownedDirectory, ILog log)
    {
        Qemu = qemu;
        Agent = agent;
        Origin = origin;
        StartupTime = startupTime;
        RunDirectory = runDirectory;
        SharedDirectory = sharedDirectory;
        TemplateFingerprint = templateFingerprint;
        FallbackReason = fallbackReason;
        _ownedDirectory = ownedDirectory;
        _log = log;
        _ = WatchExitAsync();
    }

    public string Name => Qemu.Name;

    /// <summary>The QEMU process (hotplug, QMP state). Prefer the methods here, which also do the guest's part.</summary>
    public QemuVm Qemu { get; }

    /// <summary>The connected agent; owned by this VM (disposed with it).</summary>
    public AgentClient Agent { get; }

    public VmOrigin Origin { get; }

    /// <summary>From the factory's first step to the agent answering and the fix-ups done.</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>Folder of the VM's sockets and console log.</summary>
    public string RunDirectory { get; }

    /// <summary>
    /// The host folder the guest sees over 9p. For a VM from the pool this is the pool's folder for
    /// that clone (its QEMU was started before the pod was known), not the one the request named.
    /// </summary>
    public string? SharedDirectory { get; }

    /// <summary>The template a clone came from; null for a cold boot.</summary>
    public string? TemplateFingerprint { get; }

    /// <summary>Why a cold boot happened although templates are on (no template, a clone failed); null otherwise.</summary>
    public string? FallbackReason { get; }

    public int? ProcessId => Qemu.ProcessId;

    /// <summary>Completes when QEMU has exited, with <see cref="ExitReason"/> set.</summary>
    public Task Exited => _exited.Task;

    /// <summary>"stopped" when disposed; QEMU's exit code and last output when it died.</summary>
    public string? ExitReason => Volatile.Read(ref _exitReason);

    /// <summary>Origin and time, for logs: "template clone 0.31 s".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{OriginText(Origin)} {StartupTime.TotalSeconds:F2} s");

    public static string OriginText(VmOrigin origin) => origin switch
    {
        VmOrigin.ColdBoot => "cold boot",
        VmOrigin.TemplateClone => "template clone",
        VmOrigin.Pool => "pool",
        VmOrigin.Checkpoint => "checkpoint restore",
        _ => origin.ToString(),
    };

    /// <summary>Hot-plugs a raw image or block device as virtio-blk; returns the serial the guest finds it by (/dev/disk/by-id/virtio-SERIAL).</summary>
    public async Task<string> AttachDiskAsync(string hostPath, bool readOnly, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        await _deviceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var serial = DiskSerialPrefix + (++_nextDisk).ToString(CultureInfo.InvariantCulture);
            var device = await Qemu.AddDiskAsync(new DiskSpec(hostPath) { ReadOnly = readOnly, Serial = serial }, cancellationToken).ConfigureAwait(false);
            _disks[serial] = device;
            if (readOnly)
                _readOnlyDisks.Add(serial);
            return serial;
        }
        finally
        {
            _deviceLock.Release();
        }
    }

    /// <summary>The disks attached with <see cref="AttachDiskAsync"/> and not detached: serial, root port, read-only.</summary>
    public IReadOnlyList<VmCheckpointDisk> ListDisks()
    {
        _deviceLock.Wait();
        try
        {
            return [.. _disks.OrderBy(d => d.Value.RootPort, StringComparer.Ordinal)
                .Select(d => new VmCheckpointDisk(d.Key, d.Value.RootPort!, _readOnlyDisks.Contains(d.Key)))];
        }
        finally
        {
            _deviceLock.Release();
        }
    }

    /// <summary>Memory hot-added since the VM started (a checkpoint does not keep it).</summary>
    internal int HotAddedMemoryMiB => _hotAddedMemoryMiB;

    /// <summary>Disks a restored clone got back before its state was loaded: detached by serial like any other.</summary>
    internal void AdoptDisks(IEnumerable<(VmCheckpointDisk Disk, HotpluggedDevice Device)> disks)
    {
        foreach (var (disk, device) in disks)
        {
            var serial = disk.Serial;
            _disks[serial] = device;
            if (disk.ReadOnly)
                _readOnlyDisks.Add(serial);
            if (serial.StartsWith(DiskSerialPrefix, StringComparison.Ordinal)
                && int.TryParse(serial.AsSpan(DiskSerialPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                _nextDisk = Math.Max(_nextDisk, n);
            }
        }
    }

    /// <summary>Unplugs a disk attached with <see cref="AttachDiskAsync"/> (the guest must release it).</summary>
    public async Task DetachDiskAsync(string serial, CancellationToken cancellationToken = default)
    {
        await _deviceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_disks.TryGetValue(serial, out var device))
                throw StencilException.NotFound($"vm {Name} has no attached disk with serial \"{serial}\"");
            await Qemu.RemoveDeviceAsync(device, cancellationToken).ConfigureAwait(false);
            _disks.Remove(serial);
            _readOnlyDisks.Remove(serial);
        }
        finally
        {
            _deviceLock.Release();
        }
    }

    /// <summary>
    /// Grows the VM to at least <paramref name="vcpus"/> vCPUs and <paramref name="memoryMiB"/> MiB:
    /// hot-adds vCPUs (one socket each) and one DIMM for the missing memory (rounded up to the guest's
    /// memory block size), then has the agent online them and waits until the guest shows them.
    /// Never shrinks. Asking for more than the description's maximum is ResourceExhausted.
    /// </summary>
    public async Task ResizeAsync(int vcpus, int memoryMiB, CancellationToken cancellationToken = default)
    {
        await _deviceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ResizeCoreAsync(vcpus, memoryMiB, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _deviceLock.Release();
        }
    }

    private async Task ResizeCoreAsync(int vcpus, int memoryMiB, CancellationToken cancellationToken)
    {
        var description = Qemu.Description;
        if (vcpus > description.Cpus.Max)
        {
            throw new StencilException(ErrorKind.ResourceExhausted,
                $"vm {Name}: {vcpus} vCPUs asked for, but it can have at most {description.Cpus.Max} (hypervisor.default_maxvcpus)");
        }
        var currentMemory = description.Memory.SizeMiB + _hotAddedMemoryMiB;
        var addMemory = 0;
        if (memoryMiB > currentMemory)
        {
            if (!description.Memory.HotplugEnabled)
                throw new StencilException(ErrorKind.ResourceExhausted, $"vm {Name}: {memoryMiB} MiB asked for, but it has {currentMemory} MiB and no memory hotplug (hypervisor.memory_slots = 0)");
            if (_memoryBlockBytes == 0)
                _memoryBlockBytes = (await Agent.GetGuestDetailsAsync(cancellationToken).ConfigureAwait(false)).MemoryBlockSizeBytes;
            var blockMiB = (int)Math.Max(1, (_memoryBlockBytes == 0 ? 128UL << 20 : _memoryBlockBytes) >> 20);
            addMemory = (memoryMiB - currentMemory + blockMiB - 1) / blockMiB * blockMiB;
            if (currentMemory + addMemory > description.Memory.MaxMiB)
            {
                throw new StencilException(ErrorKind.ResourceExhausted,
                    $"vm {Name}: {memoryMiB} MiB asked for (+{addMemory} MiB in {blockMiB} MiB blocks), but it can have at most {description.Memory.MaxMiB} MiB");
            }
            if (_dimms >= description.Memory.HotplugSlots)
                throw new StencilException(ErrorKind.ResourceExhausted, $"vm {Name}: all {description.Memory.HotplugSlots} memory slots are used (hypervisor.memory_slots)");
        }

        var cpus = await Qemu.QueryCpuCountAsync(cancellationToken).ConfigureAwait(false);
        var addedCpus = 0;
        for (var i = cpus; i < vcpus; i++)
        {
            await Qemu.AddCpuAsync(cancellationToken).ConfigureAwait(false);
            addedCpus++;
        }
        ulong memoryBefore = 0;
        if (addMemory > 0)
        {
            memoryBefore = (await Agent.GetGuestDetailsAsync(cancellationToken).ConfigureAwait(false)).MemoryTotalBytes;
            await Qemu.AddMemoryAsync(addMemory, cancellationToken).ConfigureAwait(false);
            _hotAddedMemoryMiB += addMemory;
            _dimms++;
        }
        if (addedCpus > 0)
            await Agent.OnlineCpuMemAsync(wantCpus: vcpus, cpuOnly: addMemory == 0, timeout: s_memoryOnlineTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (addMemory > 0)
            await OnlineMemoryAsync(memoryBefore, addMemory, cancellationToken).ConfigureAwait(false);
        if (addedCpus > 0 || addMemory > 0)
            _log.Info($"vm {Name}: resized to {Math.Max(cpus, vcpus)} vCPUs, {currentMemory + addMemory} MiB");
    }

    /// <summary>
    /// The guest's ACPI handler adds the DIMM's memory blocks a moment after device_add; the agent
    /// onlines the blocks present when it is called, so call it until MemTotal has grown by most of
    /// the DIMM (the kernel keeps ~1.5% of it for its own page structures).
    /// </summary>
    private async Task OnlineMemoryAsync(ulong before, int addedMiB, CancellationToken cancellationToken)
    {
        var wanted = before + ((ulong)addedMiB << 20) * 9 / 10;
        var deadline = DateTime.UtcNow + s_memoryOnlineTimeout;
        CpuMemOnlineResult result;
        while (true)
        {
            result = await Agent.OnlineCpuMemAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.MemoryTotalBytes >= wanted)
                return;
            if (DateTime.UtcNow > deadline)
            {
                throw new StencilException(ErrorKind.DeadlineExceeded,
                    $"vm {Name}: the guest did not bring the hot-added {addedMiB} MiB online within {s_memoryOnlineTimeout.TotalSeconds:0} s (MemTotal {result.MemoryTotalBytes >> 20} MiB, was {before >> 20} MiB)");
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _exited.Task.ConfigureAwait(false);
            return;
        }
        await Agent.DisposeAsync().ConfigureAwait(false);
        await Qemu.DisposeAsync().ConfigureAwait(false);
        await _exited.Task.ConfigureAwait(false);
        if (_ownedDirectory is not null)
            RemoveOwnedDirectory(_ownedDirectory, SharedDirectory, _log);
        _deviceLock.Dispose();
    }

    /// <summary>
    /// A pooled clone's folder: the export folder first, with what the guest left in it, removed by fds
    /// (<see cref="ConfinedDirectory.RemoveTree"/>: no link the guest wrote is followed, and a container
    /// root file system still mounted in there stops the removal instead of being walked into), then
    /// QEMU's files.
    /// </summary>
    internal static void RemoveOwnedDirectory(string directory, string? sharedDirectory, ILog log)
    {
        try
        {
            if (sharedDirectory is not null && ConfinedDirectory.TryOpen(Path.GetDirectoryName(sharedDirectory)!) is { } parent)
            {
                using (parent)
                    parent.RemoveTree(Path.GetFileName(sharedDirectory));
            }
            foreach (var file in Directory.EnumerateFiles(directory))
                File.Delete(file);
            Directory.Delete(directory);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
        {
            log.Warning($"leaving {directory} in place: {ex.Message}");
        }
    }

    private async Task WatchExitAsync()
    {
        await Qemu.Exited.ConfigureAwait(false);
        string reason;
        if (Volatile.Read(ref _disposed) != 0)
        {
            reason = "stopped";
        }
        else
        {
            // QemuVm reports why QEMU died (exit code and its last output) on the next operation.
            try
            {
                await Qemu.QueryStatusAsync().ConfigureAwait(false);
                reason = "qemu exited";
            }
            catch (StencilException ex)
            {
                reason = ex.Message;
            }
            _log.Warning($"vm {Name} stopped unexpectedly: {reason}");
        }
        Volatile.Write(ref _exitReason, reason);
        _exited.TrySetResult();
    }
}
