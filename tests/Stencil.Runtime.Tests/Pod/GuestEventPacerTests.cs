using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

[Trait("Category", "Unit")]
public sealed class GuestEventPacerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_burst_passes_at_once_then_events_wait_their_turn_at_the_rate()
    {
        var pacer = new GuestEventPacer(burst: 3, perSecond: 10);
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero], [pacer.Take(Ms(0)), pacer.Take(Ms(0)), pacer.Take(Ms(0))]);
        Assert.Equal(Ms(100), pacer.Take(Ms(0)));
        // The caller waited the 100 ms it was told: the next one waits a full period again.
        Assert.Equal(Ms(100), pacer.Take(Ms(100)));
        Assert.Equal(Ms(100), pacer.Take(Ms(200)));
    }

    [Fact]
    public void A_quiet_guest_earns_its_burst_back_but_no_more()
    {
        var pacer = new GuestEventPacer(burst: 2, perSecond: 10);
        pacer.Take(Ms(0));
        pacer.Take(Ms(0));
        Assert.Equal(Ms(100), pacer.Take(Ms(0)));
        var later = Ms(100) + TimeSpan.FromSeconds(60);
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero], [pacer.Take(later), pacer.Take(later)]);
        Assert.Equal(Ms(100), pacer.Take(later));
    }
}
