using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    // struct utsname (Linux): six fields of 65 bytes: sysname, nodename, release, version, machine, domainname.
    internal const int UtsFieldLength = 65;
    internal const int UtsnameSize = 6 * UtsFieldLength;

    /// <summary>
    /// The kernel release (uname -r, "6.1.0-28-amd64"). Throws "uname: ..." on failure. Declared here:
    /// Tmds.LibC has no uname, and the BCL gives only the parsed numbers (Environment.OSVersion).
    /// </summary>
    internal static string KernelRelease()
    {
        var buffer = stackalloc byte[UtsnameSize];
        Errno.Check(Uname(buffer), "uname");
        return Marshal.PtrToStringUTF8((nint)(buffer + (2 * UtsFieldLength))) ?? "";
    }

    [LibraryImport(Lib, EntryPoint = "uname", SetLastError = true)]
    private static partial int Uname(byte* buffer);
}
