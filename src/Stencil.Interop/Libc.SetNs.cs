using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>setns(2): moves the calling thread (only) into the namespace <paramref name="namespaceFd"/>
    /// refers to (CLONE_NEWNET: a network namespace). 0, or -1.</summary>
    internal static int SetNs(SafeHandle namespaceFd, int namespaceType)
    {
        using var lease = new FdLease(namespaceFd);
        return LibC.setns(lease.Fd, namespaceType);
    }
}
