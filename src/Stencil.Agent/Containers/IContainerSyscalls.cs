using Stencil.Agent.Processes;
using Stencil.Oci.Model;

namespace Stencil.Agent.Containers;

/// <summary>
/// Everything <see cref="ContainerManager"/> asks of the guest's kernel and file system, as youki's
/// Syscall trait does: the manager keeps the decisions (what to write where, what to undo on a
/// failure, when to refuse), this seam only does them, so the decisions are unit tested against a
/// fake. <see cref="ContainerSyscalls"/> is the real one and forwards each call unchanged.
/// </summary>
internal interface IContainerSyscalls
{
    bool DirectoryExists(string path);

    void CreateDirectory(string path);

    /// <summary>Deletes a folder and everything in it; the caller has checked that nothing is mounted below.</summary>
    void DeleteDirectory(string path);

    Task WriteFileAsync(string path, byte[] contents, CancellationToken cancellationToken);

    /// <summary>Writes a text file (a sysctl under /proc/sys); fails with IOException or UnauthorizedAccessException.</summary>
    Task WriteTextAsync(string path, string text, CancellationToken cancellationToken);

    Task<string> ReadTextAsync(string path, CancellationToken cancellationToken);

    /// <summary>The file's text, or null when reading it fails with an IOException (gone, or a cgroup controller off).</summary>
    string? TryReadText(string path);

    /// <summary>Every file named <paramref name="name"/> below <paramref name="dir"/>, at any depth.</summary>
    IEnumerable<string> FindFiles(string dir, string name);

    /// <summary><see cref="GuestPaths.RealPathInside"/>: symlinks resolved, still under one of <paramref name="roots"/>.</summary>
    string RealPathInside(string path, string field, string[] roots);

    /// <summary>Mounts a container's storages under its folder; returns the mount points, innermost last.</summary>
    Task<List<string>> MountStoragesAsync(string containerDir, string? sharedRoot, IReadOnlyList<StorageRequest> storages,
        CancellationToken cancellationToken);

    /// <summary>Unmounts in reverse order (a failure is logged, not thrown) and empties the list.</summary>
    void Unmount(List<string> mountPoints);

    /// <summary>The mount points at or below <paramref name="dir"/> (/proc/self/mountinfo).</summary>
    IReadOnlyList<string> MountPointsUnder(string dir);

    /// <summary>The folder of the sandbox's tmpfs volume <paramref name="name"/>, mounted with <paramref name="options"/> if it is not yet (<see cref="EphemeralVolumes.Ensure"/>).</summary>
    string EnsureEphemeralVolume(string name, IReadOnlyList<string> options, string field);

    /// <summary>Unmounts the sandbox's tmpfs volumes.</summary>
    void UnmountEphemeralVolumes();

    /// <summary>Waits for the hot-plugged disk with this serial; returns its node under /dev.</summary>
    Task<string> WaitForDiskAsync(string serial, TimeSpan timeout, CancellationToken cancellationToken);

    (long Major, long Minor) DeviceNumbers(string node);

    /// <summary>The guest's device nodes, for a privileged container.</summary>
    IReadOnlyList<Device> GuestDeviceNodes();

    /// <summary>kill(2); false when it failed (the process is gone).</summary>
    bool Kill(int pid, int signal);

    void Close(int fd);

    /// <summary>Pipes for a process's stdio; <paramref name="child"/> gets the ends to pass to the runtime.</summary>
    ProcessIo CreatePipes(out ChildStdio child);

    /// <summary>The stdio of a terminal process, waiting for its master.</summary>
    ProcessIo CreateTerminal();

    /// <summary>A fresh --console-socket for the runtime to send a terminal's master to.</summary>
    IConsoleSocket OpenConsoleSocket();
}
