using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>Return at once when no child has exited (Tmds.LibC lacks it, as it lacks waitpid).</summary>
    internal const int WNOHANG = 1;

    /// <summary>
    /// waitpid(2): the pid that changed state (0 with WNOHANG when none did), -1 on failure (EINTR,
    /// ECHILD). Declared here: Tmds.LibC has no wait family; System.Diagnostics.Process reaps only
    /// the children it started itself.
    /// </summary>
    internal static int WaitPid(int pid, out int status, int options)
    {
        int s;
        var result = WaitPidCore(pid, &s, options);
        status = s;
        return result;
    }

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPidCore(int pid, int* status, int options);
}
