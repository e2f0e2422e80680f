using System.Runtime.InteropServices;

namespace Stencil.Runtime.Interop;

/// <summary>The one place an errno turns into a StencilException.</summary>
internal static class Errno
{
    internal static StencilException Exception(int errno, string what)
    {
        var text = Marshal.GetPInvokeErrorMessage(errno);
        var kind = errno switch
        {
            Libc.ENOENT => ErrorKind.NotFound,
            Libc.EINVAL => ErrorKind.InvalidArgument,
            1 or 13 => ErrorKind.PermissionDenied, // EPERM, EACCES
            Libc.EBUSY => ErrorKind.FailedPrecondition,
            _ => ErrorKind.Internal,
        };
        return new StencilException(kind, $"{what}: {text} (errno {errno})");
    }
}
