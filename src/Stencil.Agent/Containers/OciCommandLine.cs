namespace Stencil.Agent.Containers;

/// <summary>
/// Command lines of the OCI runtime CLI (runc and crun take the same ones). Pure: the tests compare
/// them with golden strings. Every call names a private state root and a JSON log file: errors
/// are read from the log, because in pass-through stdio mode the runtime's own stderr is the
/// container's.
/// </summary>
internal sealed record OciCommandLine(string Binary, string StateRoot, string LogPath)
{
    private List<string> Global(params string[] rest)
    {
        var args = new List<string> { Binary, "--root", StateRoot, "--log", LogPath, "--log-format", "json" };
        args.AddRange(rest);
        return args;
    }

    internal IReadOnlyList<string> Create(string id, string bundle, string pidFile, string? consoleSocket)
    {
        var args = Global("create", "--bundle", bundle, "--pid-file", pidFile);
        if (consoleSocket is not null)
            args.AddRange(["--console-socket", consoleSocket]);
        args.Add(id);
        return args;
    }

    internal IReadOnlyList<string> Start(string id) => Global("start", id);

    /// <summary>create + start + wait + delete in one: only for the warm-up's throw-away container.</summary>
    internal IReadOnlyList<string> Run(string id, string bundle) => Global("run", "--bundle", bundle, id);

    internal IReadOnlyList<string> Exec(string id, string processJsonPath, string pidFile, string? consoleSocket)
    {
        var args = Global("exec", "--detach", "--pid-file", pidFile, "--process", processJsonPath);
        if (consoleSocket is not null)
            args.AddRange(["--console-socket", consoleSocket]);
        args.Add(id);
        return args;
    }

    internal IReadOnlyList<string> Kill(string id, int signal, bool all) =>
        all ? Global("kill", "--all", id, signal.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : Global("kill", id, signal.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal IReadOnlyList<string> Delete(string id, bool force) => force ? Global("delete", "--force", id) : Global("delete", id);

    internal IReadOnlyList<string> Pause(string id) => Global("pause", id);

    internal IReadOnlyList<string> Resume(string id) => Global("resume", id);

    internal IReadOnlyList<string> Update(string id, string resourcesJsonPath) => Global("update", "--resources", resourcesJsonPath, id);

    internal IReadOnlyList<string> State(string id) => Global("state", id);
}
