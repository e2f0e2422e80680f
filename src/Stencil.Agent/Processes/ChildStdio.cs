using Microsoft.Win32.SafeHandles;

namespace Stencil.Agent.Processes;

/// <summary>The child's ends of the stdio pipes, closed by the agent once the child has them.</summary>
internal readonly record struct ChildStdio(SafeFileHandle Stdin, SafeFileHandle Stdout, SafeFileHandle Stderr)
{
    internal void Close()
    {
        Stdin.Dispose();
        Stdout.Dispose();
        Stderr.Dispose();
    }
}
