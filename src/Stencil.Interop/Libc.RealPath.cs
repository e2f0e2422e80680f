using System.Runtime.InteropServices;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// realpath(3): <paramref name="path"/> absolute, with every symlink resolved; null when it does not
    /// resolve (errno says why). Declared here: Tmds.LibC has neither realpath nor free, and the BCL
    /// resolves only the last component's link (FileSystemInfo.ResolveLinkTarget), not every one.
    /// </summary>
    internal static string? RealPath(string path)
    {
        var resolved = RealPathCore(path, null);
        if (resolved is null)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8((nint)resolved);
        }
        finally
        {
            Free(resolved); // no SetLastError: realpath's errno stays
        }
    }

    [LibraryImport(Lib, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial byte* RealPathCore(string path, byte* resolved);

    [LibraryImport(Lib, EntryPoint = "free")]
    private static partial void Free(void* pointer);
}
