namespace Stencil.Agent.Client;

public enum StdioStream
{
    Stdout,
    Stderr,
}
