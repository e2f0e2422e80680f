namespace Stencil.Runtime.Network;

/// <summary>Runs a program to completion (the seam between the network plumbing and iproute2).</summary>
internal interface ICommandRunner
{
    Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}
