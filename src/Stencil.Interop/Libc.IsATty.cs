using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>isatty(3) on a standard fd (0, 1, 2).</summary>
    internal static bool IsATty(int fd) => LibC.isatty(fd) == 1;
}
