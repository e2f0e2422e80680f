using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>pipe2(2). Throws "pipe2: ..." on failure.</summary>
    internal static (SafeFileHandle Read, SafeFileHandle Write) Pipe2(int flags)
    {
        int* fds = stackalloc int[2];
        Errno.Check(LibC.pipe2(fds, flags), "pipe2");
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }
}
