using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>listen(2): 0, or -1.</summary>
    internal static int Listen(SafeHandle socket, int backlog)
    {
        using var lease = new FdLease(socket);
        return LibC.listen(lease.Fd, backlog);
    }
}
