namespace Stencil.TestSupport;

/// <summary>A live process found in /proc: its pid and its argv.</summary>
public sealed record LeftoverProcess(int Pid, IReadOnlyList<string> Args)
{
    /// <summary>The arguments joined by spaces, as `ps` shows them.</summary>
    public string CommandLine => string.Join(' ', Args);

    /// <summary>The executable's file name (argv[0] without its folder).</summary>
    public string Program => Args.Count == 0 ? "" : Path.GetFileName(Args[0]);

    /// <summary>"PID: COMMAND LINE", for assertion messages.</summary>
    public override string ToString() => $"{Pid}: {CommandLine}";
}
