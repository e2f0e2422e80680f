using System.Security.Cryptography;
using Stencil.Agent.Client;

namespace Stencil.Factory.Internal;

/// <summary>
/// What makes a clone its own machine before anything runs in it. Every clone wakes up with its
/// template's RNG state and clock: a fresh vmgenid on its command line makes the guest kernel
/// reseed; these are the second line (Kata's agent has the same two calls).
/// </summary>
internal static class CloneFixUps
{
    /// <summary>What Kata sends to ReseedRandomDev.</summary>
    public const int RandomSeedBytes = 512;

    /// <summary>
    /// 512 bytes from the host's RNG mixed into the guest's, and the guest clock set from the host's:
    /// both requests sent at once (independent; ttRPC multiplexes them), both done before this returns.
    /// </summary>
    public static async Task ApplyAsync(AgentClient agent, CancellationToken cancellationToken)
    {
        var seed = new byte[RandomSeedBytes];
        RandomNumberGenerator.Fill(seed);
        await Task.WhenAll(
            agent.ReseedRandomDevAsync(seed, cancellationToken),
            agent.SetGuestDateTimeAsync(DateTimeOffset.UtcNow, cancellationToken)).ConfigureAwait(false);
    }
}
