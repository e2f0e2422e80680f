using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>fcntl(2) with an int argument (F_GETFL, F_SETFL, F_SETFD, F_SETOWN, F_DUPFD_CLOEXEC, F_SETPIPE_SZ).</summary>
    internal static int Fcntl(SafeHandle fd, int command, int argument)
    {
        using var lease = new FdLease(fd);
        return LibC.fcntl(lease.Fd, command, argument);
    }
}
