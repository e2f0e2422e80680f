namespace Stencil.Runtime.Pod;

/// <summary>
/// Paces how fast the host takes events a guest can make up at will (OOM reports): a burst of
/// <paramref name="burst"/>, then <paramref name="perSecond"/> (a token bucket). The host asks the guest
/// for the next event only when the pacer allows, so a flooding guest is slowed down where it stands:
/// nothing queues on the host, and neither the log nor containerd's event stream is flooded.
/// Pure: the caller passes the time.
/// </summary>
internal sealed class GuestEventPacer(int burst, double perSecond)
{
    private double _tokens = burst;
    private TimeSpan _last;

    /// <summary>Takes one event's allowance at <paramref name="now"/> (a monotonic clock); returns how long to wait before taking the event.</summary>
    public TimeSpan Take(TimeSpan now)
    {
        _tokens = Math.Min(burst, _tokens + (now - _last).TotalSeconds * perSecond);
        _last = now;
        _tokens -= 1;
        // In debt: the wait pays it back, so the next Take (after the wait) starts from zero.
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / perSecond);
    }
}
