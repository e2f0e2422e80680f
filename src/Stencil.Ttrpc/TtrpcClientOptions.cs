namespace Stencil.Ttrpc;

/// <summary>
/// The bounds a <see cref="TtrpcClient"/> puts on its connection. The defaults suit a trusted peer
/// (containerd); <see cref="ForUntrustedPeer"/> is for a peer that may be hostile (a VM's agent: Kata's
/// threat model has the guest fully compromised), where every bound is finite and a protocol violation
/// ends the connection.
/// </summary>
public sealed record TtrpcClientOptions
{
    /// <summary>The bounds for a peer that may be hostile: a guest cannot hang or grow the host's side.</summary>
    public static readonly TtrpcClientOptions ForUntrustedPeer = new()
    {
        CloseOnProtocolViolation = true,
        FrameTimeout = TimeSpan.FromSeconds(30),
        WriteStallTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// Calls in flight at once on the connection. One more fails at once with ResourceExhausted, so a
    /// peer that answers nothing cannot make the caller pile up calls (and their memory) without end.
    /// </summary>
    public int MaxPendingCalls { get; init; } = 1024;

    /// <summary>
    /// Bytes of requests queued and not yet written (the peer is slow to read, or not reading). A call
    /// whose request would take the queue over this fails at once with ResourceExhausted.
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 16 << 20;

    /// <summary>
    /// How long a write may wait for the peer to take bytes before the connection is closed ("peer
    /// stopped reading"), failing every call. Null: as long as it takes.
    /// </summary>
    public TimeSpan? WriteStallTimeout { get; init; }

    /// <summary>
    /// How long the rest of a frame may take once its first bytes came (and how long the body of an
    /// oversized frame may take to skip): a peer that starts a frame and never finishes it would
    /// otherwise hold up every response behind it. Past it the connection is closed. Null: no limit.
    /// </summary>
    public TimeSpan? FrameTimeout { get; init; }

    /// <summary>
    /// False (containerd/ttrpc's behaviour): an oversized or undecodable response fails only its call,
    /// and frames a client has no use for (requests, unknown types) are dropped. True: any of those, a
    /// payload that is not the method's response type, or a response on a stream this client never
    /// opened, closes the connection with the reason (every call fails with it): a peer that breaks the
    /// protocol once is not believed again.
    /// </summary>
    public bool CloseOnProtocolViolation { get; init; }

    /// <summary>
    /// The first call's stream id (odd). A client that takes over a peer which may still answer an
    /// earlier client's calls (a VM restored from a checkpoint) starts past that client's ids, so those
    /// answers count as calls forgotten, not as streams never opened.
    /// </summary>
    public uint FirstStreamId { get; init; } = 1;

    internal void Validate()
    {
        if (MaxPendingCalls <= 0)
            throw StencilException.InvalidArgument($"ttrpc client: MaxPendingCalls = {MaxPendingCalls}: must be positive");
        if (MaxQueuedBytes <= 0)
            throw StencilException.InvalidArgument($"ttrpc client: MaxQueuedBytes = {MaxQueuedBytes}: must be positive");
        if (WriteStallTimeout is { } w && w <= TimeSpan.Zero)
            throw StencilException.InvalidArgument($"ttrpc client: WriteStallTimeout = {w}: must be positive");
        if (FirstStreamId % 2 == 0)
            throw StencilException.InvalidArgument($"ttrpc client: FirstStreamId = {FirstStreamId}: a client's stream ids are odd");
        if (FrameTimeout is { } f && f <= TimeSpan.Zero)
            throw StencilException.InvalidArgument($"ttrpc client: FrameTimeout = {f}: must be positive");
    }
}
