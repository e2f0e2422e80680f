using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    internal const int CLOCK_REALTIME = 0;

    /// <summary>
    /// clock_settime(2). Declared here: Tmds.LibC has no clock_* calls (the timespec layout is its).
    /// </summary>
    internal static int ClockSetTime(int clock, long seconds, long nanoseconds)
    {
        var time = new timespec { tv_sec = seconds, tv_nsec = (long_t)nanoseconds };
        return ClockSetTimeCore(clock, &time);
    }

    [LibraryImport(Lib, EntryPoint = "clock_settime", SetLastError = true)]
    private static partial int ClockSetTimeCore(int clock, timespec* time);
}
