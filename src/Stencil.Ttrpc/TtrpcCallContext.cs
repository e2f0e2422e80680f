namespace Stencil.Ttrpc;

/// <summary>What a server handler knows about the call it is serving.</summary>
public sealed class TtrpcCallContext
{
    internal TtrpcCallContext(
        IReadOnlyList<KeyValuePair<string, string>> metadata, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        Metadata = metadata;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The request's metadata, in wire order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }

    /// <summary>When the caller stops waiting (from the request's timeout_nano), or null.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires at the deadline, when the connection drops, or when the server stops.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// The first value of <paramref name="key"/>, or null. Keys compare case-insensitively, as
    /// containerd/ttrpc's MD.Get does (it lower-cases the key it looks up).
    /// </summary>
    public string? GetMetadata(string key)
    {
        foreach (var pair in Metadata)
        {
            if (string.Equals(pair.Key, key, StringComparison.OrdinalIgnoreCase))
                return pair.Value;
        }
        return null;
    }
}
