namespace Stencil.Agent.Processes;

/// <summary>The child's ends of the stdio pipes, closed by the agent once the child has them.</summary>
internal readonly record struct ChildStdio(int Stdin, int Stdout, int Stderr)
{
    internal void Close()
    {
        Fd.Close(Stdin);
        Fd.Close(Stdout);
        Fd.Close(Stderr);
    }
}
