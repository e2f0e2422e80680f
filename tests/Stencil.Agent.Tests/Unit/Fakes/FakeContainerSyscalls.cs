using System.Text;
using Stencil.Agent.Containers;
using Stencil.Agent.Processes;
using Stencil.Oci.Model;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>
/// The guest's file system and kernel in memory, for ContainerManager: folders and text files in
/// dictionaries, mounts in a list. Stdio pipes are real pipes (the test host is Linux too); nothing
/// else touches the machine.
/// </summary>
internal sealed class FakeContainerSyscalls : IContainerSyscalls
{
    private readonly object _lock = new();

    internal HashSet<string> Directories { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>What is mounted now, in mount order.</summary>
    internal List<string> Mounted { get; } = [];

    /// <summary>Files whose write fails with an IOException (a sysctl the guest's kernel refuses).</summary>
    internal HashSet<string> UnwritableFiles { get; } = new(StringComparer.Ordinal);

    /// <summary>Pids that kill(2) reaches; any other pid makes it fail.</summary>
    internal HashSet<int> LivePids { get; } = [];

    internal List<(int Pid, int Signal)> Signals { get; } = [];

    internal List<FakeConsoleSocket> ConsoleSockets { get; } = [];

    internal bool EphemeralVolumesUnmounted { get; private set; }

    public bool DirectoryExists(string path)
    {
        lock (_lock)
            return Directories.Contains(path);
    }

    public void CreateDirectory(string path)
    {
        lock (_lock)
            Directories.Add(path);
    }

    public void DeleteDirectory(string path)
    {
        lock (_lock)
        {
            Directories.RemoveWhere(d => GuestPaths.IsUnder(d, path));
            foreach (var file in Files.Keys.Where(f => GuestPaths.IsUnder(f, path)).ToList())
                Files.Remove(file);
        }
    }

    public Task WriteFileAsync(string path, byte[] contents, CancellationToken cancellationToken) =>
        WriteTextAsync(path, Encoding.UTF8.GetString(contents), cancellationToken);

    public Task WriteTextAsync(string path, string text, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (UnwritableFiles.Contains(path))
                throw new IOException("Invalid argument");
            Files[path] = text;
        }
        return Task.CompletedTask;
    }

    public Task<string> ReadTextAsync(string path, CancellationToken cancellationToken) =>
        Task.FromResult(TryReadText(path) ?? throw new FileNotFoundException($"no {path}"));

    public string? TryReadText(string path)
    {
        lock (_lock)
            return Files.GetValueOrDefault(path);
    }

    public IEnumerable<string> FindFiles(string dir, string name)
    {
        lock (_lock)
            return Files.Keys.Where(f => GuestPaths.IsUnder(f, dir) && Path.GetFileName(f) == name).Order(StringComparer.Ordinal).ToList();
    }

    public string RealPathInside(string path, string field, string[] roots)
    {
        if (!DirectoryExists(path) && TryReadText(path) is null)
            throw StencilException.NotFound($"{field} \"{path}\" does not exist");
        if (!roots.Any(r => GuestPaths.IsUnder(path, r)))
            throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" is outside {string.Join(" and ", roots)}");
        return path;
    }

    /// <summary>Each storage becomes a folder at its mount point, mounted.</summary>
    public Task<List<string>> MountStoragesAsync(string containerDir, string? sharedRoot, IReadOnlyList<StorageRequest> storages,
        CancellationToken cancellationToken)
    {
        var mounted = new List<string>();
        for (var i = 0; i < storages.Count; i++)
        {
            var target = GuestPaths.Inside(containerDir, storages[i].MountPoint, $"storages[{i}].mount_point");
            lock (_lock)
            {
                Directories.Add(target);
                Mounted.Add(target);
            }
            mounted.Add(target);
        }
        return Task.FromResult(mounted);
    }

    public void Unmount(List<string> mountPoints)
    {
        lock (_lock)
        {
            for (var i = mountPoints.Count - 1; i >= 0; i--)
                Mounted.Remove(mountPoints[i]);
        }
        mountPoints.Clear();
    }

    public IReadOnlyList<string> MountPointsUnder(string dir)
    {
        lock (_lock)
            return Mounted.Where(m => GuestPaths.IsUnder(m, dir)).ToList();
    }

    /// <summary>The sandbox tmpfs volumes made, with the options of the first container that named each.</summary>
    internal Dictionary<string, IReadOnlyList<string>> EphemeralVolumes { get; } = new(StringComparer.Ordinal);

    public string EnsureEphemeralVolume(string name, IReadOnlyList<string> options, string field)
    {
        lock (_lock)
            EphemeralVolumes.TryAdd(name, options);
        return $"/run/stencil/ephemeral/{name}";
    }

    public void UnmountEphemeralVolumes() => EphemeralVolumesUnmounted = true;

    public Task<string> WaitForDiskAsync(string serial, TimeSpan timeout, CancellationToken cancellationToken) =>
        throw StencilException.NotFound($"no disk with serial \"{serial}\"");

    public (long Major, long Minor) DeviceNumbers(string node) => throw new NotSupportedException();

    public IReadOnlyList<Device> GuestDeviceNodes() => [];

    public bool Kill(int pid, int signal)
    {
        lock (_lock)
        {
            Signals.Add((pid, signal));
            return LivePids.Contains(pid);
        }
    }

    public void Close(int fd)
    {
    }

    public ProcessIo CreatePipes(out ChildStdio child) => ProcessIo.CreatePipes(out child);

    public ProcessIo CreateTerminal() => ProcessIo.CreateTerminal();

    public IConsoleSocket OpenConsoleSocket()
    {
        var socket = new FakeConsoleSocket($"/run/stencil/tty/{ConsoleSockets.Count + 1}.sock");
        ConsoleSockets.Add(socket);
        return socket;
    }
}
