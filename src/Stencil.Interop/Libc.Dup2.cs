using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>dup2(2): makes <paramref name="newFd"/> (2 for stderr ...) a copy of <paramref name="fd"/>. <paramref name="newFd"/>, or -1.</summary>
    internal static int Dup2(SafeHandle fd, int newFd)
    {
        using var lease = new FdLease(fd);
        return LibC.dup2(lease.Fd, newFd);
    }
}
