using System.Runtime.InteropServices;

namespace Stencil.Hypervisor.Internal.Interop;

internal static partial class Libc
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;

    /// <summary>The one place an errno becomes text: "sendmsg: Bad file descriptor (errno 9)".</summary>
    public static string Describe(string call, int errno) =>
        $"{call}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
