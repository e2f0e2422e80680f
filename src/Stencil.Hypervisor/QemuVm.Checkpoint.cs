using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// A checkpoint of a clone, and a clone restored from one: the guest memory as pages (only those the
// clone has of its own, or all of them), the device state without RAM (QMP xen-save-devices-state,
// which any QEMU build has), loaded back into a new clone of the same template before it first runs.
public sealed partial class QemuVm
{
    /// <summary>Bit 63 of a /proc/PID/pagemap entry: the page is present in RAM.</summary>
    private const ulong PagePresent = 1UL << 63;

    /// <summary>Bit 62: swapped out.</summary>
    private const ulong PageSwapped = 1UL << 62;

    /// <summary>Bit 61: a file page or shared anonymous; clear for a clone's own (copied-on-write) page.</summary>
    private const ulong PageFileOrShared = 1UL << 61;

    /// <summary>
    /// Writes the guest memory of this paused clone to a <see cref="GuestPageFile"/>: with
    /// <paramref name="full"/> every page that is not zero (the file alone is the memory), otherwise only
    /// the pages the clone has of its own (every page it wrote since it mapped its template's memory
    /// file; all other pages are still the template's). Read from QEMU's mapping through /proc/PID/mem.
    /// </summary>
    /// <returns>How many pages the file holds.</returns>
    public Task<long> SaveMemoryPagesAsync(string path, bool full, CancellationToken cancellationToken = default)
    {
        var action = $"saving the memory of vm {Name} to {path}";
        return RunAsync(VmOperation.Checkpoint, action, _options.MigrationTimeout, ct =>
        {
            var (pid, start, length) = GuestMemoryMapping(action);
            var pages = length / GuestPageFile.PageSize;
            ulong[] entries;
            if (!full)
            {
                var bytes = new byte[pages * 8];
                using (var pagemap = File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read))
                    ReadAll(pagemap, bytes, start / GuestPageFile.PageSize * 8, action);
                entries = new ulong[pages];
                for (var i = 0; i < pages; i++)
                    entries[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8));
            }
            else
            {
                entries = [];
            }
            long written = 0;
            var chunk = new byte[256 * GuestPageFile.PageSize];
            using var mem = File.OpenHandle($"/proc/{pid}/mem", FileMode.Open, FileAccess.Read);
            using var output = CreateStateFile(path);
            GuestPageFile.WriteHeader(output, pages);
            for (long first = 0; first < pages; first += chunk.Length / GuestPageFile.PageSize)
            {
                ct.ThrowIfCancellationRequested();
                var count = (int)Math.Min(chunk.Length / GuestPageFile.PageSize, pages - first);
                if (!full && !AnyOwn(entries, first, count))
                    continue;
                var span = chunk.AsSpan(0, count * GuestPageFile.PageSize);
                ReadAll(mem, span, start + first * GuestPageFile.PageSize, action);
                for (var i = 0; i < count; i++)
                {
                    var page = span.Slice(i * GuestPageFile.PageSize, GuestPageFile.PageSize);
                    if (full ? GuestPageFile.IsZero(page) : !IsOwn(entries[first + i]))
                        continue;
                    GuestPageFile.WritePage(output, first + i, page);
                    written++;
                }
            }
            GuestPageFile.WriteEnd(output);
            output.Flush(flushToDisk: false);
            return Task.FromResult(written);
        }, cancellationToken);
    }

    /// <summary>
    /// Saves the state of every device (CPUs included) without RAM, QEMU writing the file itself. The VM
    /// must be paused; it stays paused. A clone started with <see cref="VmInstance.LoadsDeviceState"/> loads it.
    /// </summary>
    public Task SaveDeviceStateAsync(string path, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckPath("device_state", path);
        var action = $"saving the device state of vm {Name} to {path}";
        return RunAsync(VmOperation.Checkpoint, action, _options.MigrationTimeout, async ct =>
        {
            await Qmp.ExecuteAsync(QmpCommands.XenSaveDevicesState(path), ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Writes pages saved by <see cref="SaveMemoryPagesAsync"/> into this clone's memory before it first
    /// runs (Incoming; the pages become its own, copied on write from its mapping).
    /// </summary>
    /// <returns>How many pages were written.</returns>
    public Task<long> LoadMemoryPagesAsync(string path, CancellationToken cancellationToken = default)
    {
        var action = $"loading memory pages from {path} into vm {Name}";
        return RunAsync(VmOperation.WriteMemory, action, _options.MigrationTimeout, ct =>
        {
            var (pid, start, length) = GuestMemoryMapping(action);
            using var input = OpenStateFile(path);
            using var stream = new FileStream(input, FileAccess.Read, bufferSize: 1 << 20);
            using var mem = File.OpenHandle($"/proc/{pid}/mem", FileMode.Open, FileAccess.ReadWrite);
            var count = GuestPageFile.Read(stream, length / GuestPageFile.PageSize, path, (index, page) =>
                RandomAccess.Write(mem, page, start + index * GuestPageFile.PageSize));
            return Task.FromResult(count);
        }, cancellationToken);
    }

    /// <summary>
    /// Loads a device state saved by <see cref="SaveDeviceStateAsync"/> into this clone (started with
    /// <see cref="VmInstance.LoadsDeviceState"/>, its memory already written): Incoming -> Paused.
    /// </summary>
    public Task LoadDeviceStateAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!Instance.LoadsDeviceState)
            throw StencilException.FailedPrecondition($"vm {Name} was not started to load a device state (VmInstance.LoadsDeviceState)");
        var action = $"loading the device state {path} into vm {Name}";
        return RunAsync(VmOperation.Restore, action, _options.MigrationTimeout, async ct =>
        {
            await LoadIncomingAsync(path, action, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The inode of the memory file QEMU maps (null for a cold boot): a clone whose template was
    /// rebuilt since maps the old file, whose pages are no longer anywhere else.
    /// </summary>
    public long? MappedMemoryInode()
    {
        if (Instance.MemoryFile is not { } file || _process is not { HasExited: false } p)
            return null;
        try
        {
            return ProcMaps.FindFileMapping(File.ReadAllLines($"/proc/{p.Id}/maps"), file)?.Inode;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsOwn(ulong entry) => (entry & (PagePresent | PageSwapped)) != 0 && (entry & PageFileOrShared) == 0;

    private static bool AnyOwn(ulong[] entries, long first, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (IsOwn(entries[first + i]))
                return true;
        }
        return false;
    }

    /// <summary>QEMU's mapping of the guest memory file: (pid, start address, length).</summary>
    private (int Pid, long Start, long Length) GuestMemoryMapping(string action)
    {
        var pid = _process is { HasExited: false } p ? p.Id : throw StencilException.FailedPrecondition($"{action}: qemu is not running");
        var file = Instance.MemoryFile
            ?? throw StencilException.FailedPrecondition($"{action}: the vm was cold booted, its memory is anonymous (a checkpoint needs a template clone)");
        string[] maps;
        try
        {
            maps = File.ReadAllLines($"/proc/{pid}/maps");
        }
        catch (IOException ex)
        {
            throw StencilException.Internal($"{action}: cannot read /proc/{pid}/maps: {ex.Message}", ex);
        }
        var expected = (long)Description.Memory.SizeMiB << 20;
        var found = ProcMaps.FindFileMapping(maps, file);
        if (found is not { } mapping)
            throw StencilException.Internal($"{action}: qemu (pid {pid}) has no mapping of {file}");
        if (mapping.Length != expected)
            throw StencilException.Internal($"{action}: qemu's mapping of {file} is {mapping.Length} bytes, the vm has {expected}");
        return (pid, mapping.Start, mapping.Length);
    }

    private static void ReadAll(SafeFileHandle handle, Span<byte> buffer, long offset, string action)
    {
        while (!buffer.IsEmpty)
        {
            var n = RandomAccess.Read(handle, buffer, offset);
            if (n <= 0)
                throw StencilException.Internal($"{action}: short read at 0x{offset.ToString("x", CultureInfo.InvariantCulture)}");
            buffer = buffer[n..];
            offset += n;
        }
    }
}
