using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    private const nint SIG_IGN = 1;

    /// <summary>
    /// signal(SIGCHLD, SIG_IGN): the kernel reaps this process's children as they exit (POSIX: no
    /// zombies when SIGCHLD is ignored), including orphans reparented to it, so a process that only
    /// reaps needs no wake-up and no wait loop. 0, or -1. Declared here: Tmds.LibC has the sigaction
    /// struct but neither signal nor sigaction, and SIG_IGN is a plain handler value here.
    /// </summary>
    internal static int IgnoreChildExits() => Signal(LibC.SIGCHLD, SIG_IGN) == -1 ? -1 : 0;

    [LibraryImport(Lib, EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signal, nint handler);
}
