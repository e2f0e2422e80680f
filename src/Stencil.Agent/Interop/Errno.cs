using System.Runtime.InteropServices;

namespace Stencil.Agent.Interop;

/// <summary>The one place an errno turns into a StencilException, with what was being done.</summary>
internal static class Errno
{
    internal static int Last => Marshal.GetLastPInvokeError();

    internal static StencilException Exception(int errno, string what)
    {
        var kind = errno switch
        {
            Libc.ENOENT or Libc.ESRCH => ErrorKind.NotFound,
            Libc.EINVAL or Libc.ENOTDIR => ErrorKind.InvalidArgument,
            Libc.EPERM or Libc.EACCES => ErrorKind.PermissionDenied,
            Libc.EBUSY => ErrorKind.FailedPrecondition,
            Libc.EEXIST => ErrorKind.AlreadyExists,
            _ => ErrorKind.Internal,
        };
        return new StencilException(kind, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    /// <summary>Throws for a -1 return; passes any other value through.</summary>
    internal static int Check(int result, string what) => result == -1 ? throw Exception(Last, what) : result;

    internal static nint Check(nint result, string what) => result == -1 ? throw Exception(Last, what) : result;
}
