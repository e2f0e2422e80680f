namespace Stencil.Runtime.Network;

/// <summary>A program and its arguments, not yet run.</summary>
internal sealed record NetworkCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public override string ToString() => CommandLine.Format(FileName, Arguments);
}
