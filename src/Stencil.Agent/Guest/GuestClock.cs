using Stencil.Interop;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Guest;

/// <summary>Sets the guest's wall clock: a clone's clock starts at the template's save time.</summary>
internal static class GuestClock
{
    internal static void Set(long seconds, long nanoseconds)
    {
        if (seconds < 0 || nanoseconds is < 0 or >= 1_000_000_000)
            throw StencilException.InvalidArgument($"time {seconds}.{nanoseconds:D9} is not a valid Unix time (sec >= 0, 0 <= nsec < 1e9)");
        Errno.Check(Libc.ClockSetTime(Libc.CLOCK_REALTIME, seconds, nanoseconds), "clock_settime");
        AgentLog.Debug($"clock set to {DateTimeOffset.FromUnixTimeSeconds(seconds):O}");
    }
}
