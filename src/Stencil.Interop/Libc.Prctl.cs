using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static partial class Libc
{
    private const int PR_SET_CHILD_SUBREAPER = 36;

    /// <summary>
    /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of this process's descendants are reparented to it.
    /// 0, or -1. Declared here: Tmds.LibC has no prctl.
    /// </summary>
    internal static int SetChildSubreaper() => Prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    [LibraryImport(Lib, EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
