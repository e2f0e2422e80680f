namespace Stencil.Shim.Serve;

/// <summary>Retry settings of <see cref="EventPublisher"/> (tests shorten them).</summary>
internal sealed record EventPublisherOptions
{
    /// <summary>Attempts per event, the first one included.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Wait before the second attempt; it doubles for each one after (0.1, 0.2, 0.4, 0.8 s).</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Each Forward call's deadline (containerd's own shims use 5 s).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
