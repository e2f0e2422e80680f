using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>
    /// socket(2), for the families and uses System.Net.Sockets cannot serve (AF_VSOCK; a unix listener
    /// whose file must outlive this process's copy). A SafeFileHandle, not a SafeSocketHandle: closing
    /// it is a plain close(2), never the shutdown a Socket may do, which would reach a child's copy.
    /// An invalid handle on failure.
    /// </summary>
    internal static SafeFileHandle Socket(int domain, int type, int protocol) =>
        new(LibC.socket(domain, type, protocol), ownsHandle: true);
}
