namespace Stencil.Shim.Tests.EndToEnd;

internal sealed record ShimRunResult(int ExitCode, byte[] Stdout, string Stderr, TimeSpan Elapsed)
{
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
}
