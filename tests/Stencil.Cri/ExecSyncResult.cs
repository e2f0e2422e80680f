using System.Text;

namespace Stencil.Cri;

/// <summary>What ExecSync returned: the command's exit code and everything it wrote.</summary>
public sealed record ExecSyncResult(int ExitCode, byte[] Stdout, byte[] Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    public override string ToString() => $"exit {ExitCode}, stdout \"{StdoutText}\", stderr \"{StderrText}\"";
}
