namespace Stencil.Hypervisor;

/// <summary>
/// Host paths of one QEMU process. The console goes to a file (<see cref="ConsoleLog"/>), to a
/// unix socket a debugger can attach to (<see cref="ConsoleSocket"/>), or nowhere when both are null.
/// </summary>
public sealed record VmInstancePaths(string QmpSocket, string AgentSocket)
{
    public string? ConsoleLog { get; init; }

    public string? ConsoleSocket { get; init; }

    public string? PidFile { get; init; }

    /// <summary>
    /// Makes what QEMU created private to its owner: the sockets and files 0600 (QEMU makes them with the
    /// process's umask: sockets 0755, the console log 0644, and the console is the guest's output) and
    /// their folder 0700. Called once QEMU answers on QMP, when all of them exist. A path that is missing
    /// is skipped.
    /// </summary>
    public void RestrictToOwner()
    {
        if (!OperatingSystem.IsLinux())
            return;
        foreach (var path in new[] { QmpSocket, AgentSocket, ConsoleLog, ConsoleSocket, PidFile })
        {
            if (path is not null && (File.Exists(path) || Path.Exists(path)))
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var folder = Path.GetDirectoryName(QmpSocket);
        if (folder is not null && Directory.Exists(folder) && folder != Path.GetDirectoryName(folder))
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The usual layout in one folder: qmp.sock, agent.sock, console.log, qemu.pid.</summary>
    public static VmInstancePaths InDirectory(string directory) =>
        new(Path.Combine(directory, "qmp.sock"), Path.Combine(directory, "agent.sock"))
        {
            ConsoleLog = Path.Combine(directory, "console.log"),
            PidFile = Path.Combine(directory, "qemu.pid"),
        };
}
