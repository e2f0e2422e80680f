using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>close(2), for an fd not (or no longer) in a SafeHandle: a child's end of a pipe after
    /// the spawn, an fd received from another process that nobody took.</summary>
    internal static int Close(int fd) => LibC.close(fd);
}
