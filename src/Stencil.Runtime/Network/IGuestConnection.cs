namespace Stencil.Runtime.Network;

/// <summary>One TCP connection inside the guest, seen from the host. Disposing closes it in the guest.</summary>
internal interface IGuestConnection : IAsyncDisposable
{
    /// <summary>Waits for bytes from the guest's server; empty when it has ended its side.</summary>
    Task<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken);

    Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Half-close: the guest's server reads end of file; its answer can still be read.</summary>
    Task CloseWriteAsync(CancellationToken cancellationToken);
}
