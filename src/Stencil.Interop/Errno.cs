using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

/// <summary>
/// The one place an errno becomes a <see cref="StencilException"/> (or the text of one). Every
/// failing call reads errno right after it returns: Tmds.LibC's declarations and ours all set
/// SetLastError, so <see cref="Last"/> is the errno of the last such call on this thread
/// (Tmds.Linux.LibC.errno reads the same value).
/// </summary>
internal static class Errno
{
    // errno -> what a caller can do about it. Anything else is Internal.
    private static readonly Dictionary<int, ErrorKind> s_kinds = new()
    {
        [LibC.ENOENT] = ErrorKind.NotFound,
        [LibC.ESRCH] = ErrorKind.NotFound,             // no such process
        [LibC.EEXIST] = ErrorKind.AlreadyExists,
        [LibC.EINVAL] = ErrorKind.InvalidArgument,
        [LibC.ENOTDIR] = ErrorKind.InvalidArgument,    // a path component is not a folder
        [LibC.EPERM] = ErrorKind.PermissionDenied,
        [LibC.EACCES] = ErrorKind.PermissionDenied,
        [LibC.EBUSY] = ErrorKind.FailedPrecondition,   // mounted, in use
        [LibC.EAGAIN] = ErrorKind.Unavailable,         // try again later (process limit, full buffer)
        [LibC.ENOMEM] = ErrorKind.ResourceExhausted,
        [LibC.ENOSPC] = ErrorKind.ResourceExhausted,
        [LibC.EMFILE] = ErrorKind.ResourceExhausted,   // this process is out of fds
        [LibC.ENFILE] = ErrorKind.ResourceExhausted,   // the system is out of fds
    };

    /// <summary>errno of the last failed call on this thread.</summary>
    internal static int Last => Marshal.GetLastPInvokeError();

    internal static ErrorKind KindOf(int errno) => s_kinds.GetValueOrDefault(errno, ErrorKind.Internal);

    /// <summary>"mount 9p on /run/x: Operation not permitted (errno 1)".</summary>
    internal static string Describe(string what, int errno) =>
        $"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <param name="what">The operation and its path or value ("open /dev/random").</param>
    internal static StencilException Exception(int errno, string what) => new(KindOf(errno), Describe(what, errno));

    /// <summary>The exception for the errno of the last failed call.</summary>
    internal static StencilException LastException(string what) => Exception(Last, what);

    /// <summary>Throws for a -1 return; passes any other value through.</summary>
    internal static int Check(int result, string what) => result == -1 ? Throw(what) : result;

    /// <inheritdoc cref="Check(int, string)"/>
    internal static nint Check(nint result, string what) => result == -1 ? Throw(what) : result;

    /// <summary>Throws for an invalid handle (the call returned -1), which is disposed; returns a valid one.</summary>
    internal static T Check<T>(T handle, string what)
        where T : SafeHandle
    {
        if (!handle.IsInvalid)
            return handle;
        var errno = Last;
        handle.Dispose();
        throw Exception(errno, what);
    }

    /// <summary>For the calls that return the error number instead of setting errno (posix_spawn*).</summary>
    internal static void CheckReturned(int rc, string what)
    {
        if (rc != 0)
            throw Exception(rc, what);
    }

    [DoesNotReturn]
    private static int Throw(string what) => throw LastException(what);
}
