using Stencil.Agent.Interop;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Guest;

/// <summary>Sets the guest's wall clock: a clone's clock starts at the template's save time.</summary>
internal static class GuestClock
{
    internal static unsafe void Set(long seconds, long nanoseconds)
    {
        if (seconds < 0 || nanoseconds is < 0 or >= 1_000_000_000)
            throw StencilException.InvalidArgument($"time {seconds}.{nanoseconds:D9} is not a valid Unix time (sec >= 0, 0 <= nsec < 1e9)");
        var ts = new TimeSpec { Seconds = seconds, Nanoseconds = nanoseconds };
        Errno.Check(Libc.ClockSettime(Libc.CLOCK_REALTIME, &ts), "clock_settime");
        AgentLog.Debug($"clock set to {DateTimeOffset.FromUnixTimeSeconds(seconds):O}");
    }
}
