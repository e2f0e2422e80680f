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

    /// <summary>The usual layout in one folder: qmp.sock, agent.sock, console.log, qemu.pid.</summary>
    public static VmInstancePaths InDirectory(string directory) =>
        new(Path.Combine(directory, "qmp.sock"), Path.Combine(directory, "agent.sock"))
        {
            ConsoleLog = Path.Combine(directory, "console.log"),
            PidFile = Path.Combine(directory, "qemu.pid"),
        };
}
