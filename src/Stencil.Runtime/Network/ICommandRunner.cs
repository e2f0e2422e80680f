namespace Stencil.Runtime.Network;

/// <summary>Runs a program to completion (the seam between the network plumbing and iproute2).</summary>
internal interface ICommandRunner
{
    Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken);

    /// <summary>As above, with <paramref name="standardInput"/> written to the program's stdin, then closed
    /// (<c>nft -f -</c> reads its ruleset so).</summary>
    Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, string standardInput, CancellationToken cancellationToken);
}
