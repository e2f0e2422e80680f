using Stencil.Interop;
using Stencil.Agent.Processes;
using Stencil.Oci.Model;

namespace Stencil.Agent.Containers;

/// <summary>The guest's own <see cref="IContainerSyscalls"/>: each call forwards to the file system, libc or the storage mounter.</summary>
internal sealed class ContainerSyscalls(StorageMounter mounter) : IContainerSyscalls
{
    public bool DirectoryExists(string path) => Directory.Exists(path);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public void DeleteDirectory(string path) => Directory.Delete(path, recursive: true);

    public Task WriteFileAsync(string path, byte[] contents, CancellationToken cancellationToken) =>
        File.WriteAllBytesAsync(path, contents, cancellationToken);

    public Task WriteTextAsync(string path, string text, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, text, cancellationToken);

    public Task<string> ReadTextAsync(string path, CancellationToken cancellationToken) =>
        File.ReadAllTextAsync(path, cancellationToken);

    public string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public IEnumerable<string> FindFiles(string dir, string name) =>
        Directory.EnumerateFiles(dir, name, SearchOption.AllDirectories);

    public string RealPathInside(string path, string field, string[] roots) => GuestPaths.RealPathInside(path, field, roots);

    public Task<List<string>> MountStoragesAsync(string containerDir, string? sharedRoot, IReadOnlyList<StorageRequest> storages,
        CancellationToken cancellationToken) =>
        mounter.MountAllAsync(containerDir, sharedRoot, storages, cancellationToken);

    public void Unmount(List<string> mountPoints) => StorageMounter.UnmountAll(mountPoints);

    public IReadOnlyList<string> MountPointsUnder(string dir) => MountInfo.MountPointsUnder(dir);

    public string EnsureEphemeralVolume(string name, IReadOnlyList<string> options, string field) =>
        mounter.Ephemeral.Ensure(name, options, field);

    public void UnmountEphemeralVolumes() => mounter.Ephemeral.UnmountAll();

    public Task<string> WaitForDiskAsync(string serial, TimeSpan timeout, CancellationToken cancellationToken) =>
        mounter.Locator.WaitAsync(null, serial, timeout, cancellationToken);

    public (long Major, long Minor) DeviceNumbers(string node) => mounter.Locator.DeviceNumbers(node);

    public IReadOnlyList<Device> GuestDeviceNodes() => PrivilegedDevices.FromSysfs();

    public bool Kill(int pid, int signal) => Libc.Kill(pid, signal) == 0;

    public void Close(int fd) => Libc.Close(fd);

    public ProcessIo CreatePipes(out ChildStdio child) => ProcessIo.CreatePipes(out child);

    public ProcessIo CreateTerminal() => ProcessIo.CreateTerminal();

    public IConsoleSocket OpenConsoleSocket() => new ConsoleSocket(GuestPaths.NewConsoleSocketPath());
}
