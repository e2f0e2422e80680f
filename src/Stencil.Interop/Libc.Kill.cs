using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>kill(2): 0, or -1 (ESRCH: no such process).</summary>
    internal static int Kill(int pid, int signal) => LibC.kill(pid, signal);
}
