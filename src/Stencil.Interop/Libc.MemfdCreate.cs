using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>memfd_create(2): an anonymous file in memory. An invalid handle on failure.</summary>
    internal static SafeFileHandle MemfdCreate(string name, int flags)
    {
        fixed (byte* p = Utf8.Z(name))
            return new SafeFileHandle(LibC.memfd_create(p, (uint)flags), ownsHandle: true);
    }
}
