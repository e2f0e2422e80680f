using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// poll(2) on one fd: the count of ready fds (0 or 1), -1 on failure; <paramref name="revents"/>
    /// says what happened. Declared here: Tmds.LibC declares poll without SetLastError, so its errno
    /// (EINTR, which every caller checks) would be lost. The pollfd layout is Tmds.LibC's.
    /// </summary>
    internal static int Poll(SafeHandle fd, short events, int timeoutMilliseconds, out short revents)
    {
        using var lease = new FdLease(fd);
        var p = new pollfd { fd = lease.Fd, events = events };
        var result = PollCore(&p, 1, timeoutMilliseconds);
        revents = p.revents;
        return result;
    }

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollCore(pollfd* fds, nuint count, int timeoutMilliseconds);
}
