using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static partial class Libc
{
    private const int PRIO_PROCESS = 0;

    /// <summary>
    /// setpriority(PRIO_PROCESS, tid, nice): on Linux the nice value belongs to one thread, named by
    /// its tid. 0, or -1 (ESRCH: the thread is gone; EACCES: lowering nice needs CAP_SYS_NICE).
    /// Declared here: Tmds.LibC has no setpriority.
    /// </summary>
    internal static int SetThreadNice(int tid, int nice) => SetPriority(PRIO_PROCESS, (uint)tid, nice);

    [LibraryImport(Lib, EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, uint who, int prio);
}
