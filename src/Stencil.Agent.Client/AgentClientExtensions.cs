namespace Stencil.Agent.Client;

/// <summary>Conveniences built on <see cref="IAgentClient"/>'s calls alone.</summary>
public static class AgentClientExtensions
{
    public static Task<ReadOnlyMemory<byte>> ReadStdoutAsync(this IAgentClient agent, string containerId, string? execId,
        int maxLength = AgentClient.MaxReadChunk, CancellationToken cancellationToken = default) =>
        agent.ReadAsync(containerId, execId, StdioStream.Stdout, maxLength, cancellationToken);

    /// <summary>Copies a stream of the process to <paramref name="destination"/> until its end. Returns the byte count.</summary>
    public static async Task<long> CopyOutputAsync(this IAgentClient agent, string containerId, string? execId, StdioStream stream, Stream destination,
        CancellationToken cancellationToken = default)
    {
        long total = 0;
        while (true)
        {
            var chunk = await agent.ReadAsync(containerId, execId, stream, AgentClient.MaxReadChunk, cancellationToken).ConfigureAwait(false);
            if (chunk.IsEmpty)
                return total;
            await destination.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            total += chunk.Length;
        }
    }
}
