using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    // Request numbers Tmds.LibC does not define (it has TIOCSWINSZ).
    /// <summary>_IOW('R', 0x01, int): credit the entropy just written to /dev/random.</summary>
    internal const uint RNDADDTOENTCNT = 0x40045201;

    /// <summary>_IO('R', 0x07): reseed the CRNG now.</summary>
    internal const uint RNDRESEEDCRNG = 0x5207;

    /// <summary>_IOW('T', 202, int) from linux/if_tun.h: create or attach a tun/tap.</summary>
    internal const uint TUNSETIFF = 0x400454ca;

    /// <summary>_IOR('T', 210, unsigned int): the flags the fd's tap was set up with.</summary>
    internal const uint TUNGETIFF = 0x800454d2;

    /// <summary>
    /// ioctl(2) with a pointer argument. Tmds.LibC takes the request as an int and sign-extends it;
    /// the kernel reads it as an unsigned int, so a request with the top bit set (TUNGETIFF) arrives
    /// unchanged.
    /// </summary>
    internal static int Ioctl(SafeHandle fd, uint request, void* argument)
    {
        using var lease = new FdLease(fd);
        return LibC.ioctl(lease.Fd, unchecked((int)request), argument);
    }

    /// <summary>ioctl(2) with an int argument (or none: pass 0).</summary>
    internal static int Ioctl(SafeHandle fd, uint request, int argument)
    {
        using var lease = new FdLease(fd);
        return LibC.ioctl(lease.Fd, unchecked((int)request), argument);
    }
}
