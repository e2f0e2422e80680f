namespace Stencil.Ttrpc;

/// <summary>Per-call settings of <see cref="TtrpcClient.CallAsync{TRequest, TResponse}"/>.</summary>
public sealed record TtrpcCallOptions
{
    /// <summary>
    /// Sent as the request's timeout_nano (the server cancels the handler at that deadline) and also
    /// enforced locally: the call fails with DeadlineExceeded even if the server never answers.
    /// Must be positive; null means no deadline.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Sent as the request's metadata, in order; a key may repeat
    /// (e.g. containerd-namespace-ttrpc = k8s.io).</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Metadata { get; init; }
}
