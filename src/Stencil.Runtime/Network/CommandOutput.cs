namespace Stencil.Runtime.Network;

/// <summary>How a finished command ended. <see cref="CommandLine"/> is what a person would type to repeat it.</summary>
internal sealed record CommandOutput(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout when the command exited 0; otherwise a StencilException with the command line,
    /// the exit code and stderr (iproute2 explains itself there: "Cannot find device", "File exists").</summary>
    public string EnsureSuccess(string what) => ExitCode == 0
        ? Stdout
        : throw StencilException.Internal($"{what}: `{CommandLine}` exited {ExitCode}: {Describe(Stderr, Stdout)}");

    private static string Describe(string stderr, string stdout)
    {
        var text = (stderr.Trim().Length > 0 ? stderr : stdout).Trim();
        return text.Length == 0 ? "(no output)" : text.ReplaceLineEndings(" | ");
    }
}
