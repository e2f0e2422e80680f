namespace Stencil.Shim.Serve;

/// <summary>Retry settings of <see cref="EventPublisher"/> (tests shorten them).</summary>
internal sealed record EventPublisherOptions
{
    /// <summary>Attempts per event, the first one included: with the delays below an event is retried for
    /// 12.7 s, about as long as containerd's own shims keep one (5 requeues, 1+2+3+4+5 s), long enough
    /// to outlast a containerd restart.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>Wait before the second attempt; it doubles for each one after (0.1, 0.2, … 6.4 s).</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Each Forward call's deadline (containerd's own shims use 5 s).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
