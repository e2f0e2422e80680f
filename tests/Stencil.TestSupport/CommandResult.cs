namespace Stencil.TestSupport;

/// <summary>How a finished command ended: its exit code and everything it printed.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Throws with the whole output unless the command exited 0; returns stdout.</summary>
    public string EnsureSuccess(string what) => ExitCode == 0
        ? Stdout
        : throw new InvalidOperationException($"{what} exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
}
