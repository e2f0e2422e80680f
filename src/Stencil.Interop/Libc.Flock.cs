using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static partial class Libc
{
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;
    internal const int LOCK_UN = 8;

    /// <summary>
    /// flock(2): 0, or -1 (EWOULDBLOCK with LOCK_NB when another holds it). Declared here: Tmds.LibC
    /// has no flock, and FileStream.Lock takes fcntl record locks, which a second open of the same
    /// file by this process does not exclude.
    /// </summary>
    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(SafeHandle fd, int operation);
}
