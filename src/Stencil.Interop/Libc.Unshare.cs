using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>
    /// unshare(2): moves the calling thread (only: the other threads of a .NET process keep theirs) into
    /// new namespaces of the CLONE_NEW* kinds in <paramref name="flags"/>. With CLONE_NEWPID the thread
    /// itself stays where it is and its next child is PID 1 of the new namespace. 0, or -1.
    /// </summary>
    internal static int Unshare(int flags) => LibC.unshare(flags);
}
