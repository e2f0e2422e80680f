using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>open(2). An invalid handle on failure. <paramref name="mode"/> is read only with O_CREAT.</summary>
    internal static SafeFileHandle Open(string path, int flags, int mode = 0)
    {
        fixed (byte* p = Utf8.Z(path))
            return new SafeFileHandle(LibC.open(p, flags, (ushort)mode), ownsHandle: true);
    }
}
