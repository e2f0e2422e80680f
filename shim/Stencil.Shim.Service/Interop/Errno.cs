using System.Runtime.InteropServices;

namespace Stencil.Shim.Interop;

/// <summary>The one place an errno turns into a StencilException.</summary>
internal static class Errno
{
    public static StencilException Exception(int errno, string what)
    {
        var kind = errno switch
        {
            Libc.ENOENT => ErrorKind.NotFound,
            1 or 13 => ErrorKind.PermissionDenied, // EPERM, EACCES
            _ => ErrorKind.Internal,
        };
        return new StencilException(kind, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    public static StencilException Last(string what) => Exception(Marshal.GetLastPInvokeError(), what);
}
