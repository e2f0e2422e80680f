using Stencil.Agent.Client;

namespace Stencil.Runtime.Network;

/// <summary>A port-forward stream of the agent, as the relay uses it.</summary>
internal sealed class AgentGuestConnection(IAgentClient agent, ulong streamId) : IGuestConnection
{
    // Closing must not hang a pod's teardown on a VM that stopped answering.
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(5);

    // 256 KiB per call: big enough to keep a bulk transfer to few round trips, small enough not to
    // make the agent allocate a megabyte for an HTTP answer.
    private const int ReadChunk = 256 * 1024;

    private int _closed;

    public Task<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken) =>
        agent.PortForwardReadAsync(streamId, ReadChunk, cancellationToken);

    /// <summary>The agent writes the chunk whole before it answers.</summary>
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        agent.PortForwardWriteAsync(streamId, data, cancellationToken);

    public Task CloseWriteAsync(CancellationToken cancellationToken) => agent.PortForwardCloseWriteAsync(streamId, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        using var timeout = new CancellationTokenSource(s_closeTimeout);
        try
        {
            await agent.PortForwardCloseAsync(streamId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException or ObjectDisposedException)
        {
            // The VM is gone or stopping (its connections went with it), or the stream is already closed.
        }
    }
}
