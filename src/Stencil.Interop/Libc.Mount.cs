using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>mount(2). Flags are Tmds.Linux.LibC.MS_*; <paramref name="data"/> is the file system's option string.</summary>
    internal static int Mount(string? source, string target, string? fileSystemType, ulong flags, string? data)
    {
        fixed (byte* s = Utf8.Z(source))
        fixed (byte* t = Utf8.Z(target))
        fixed (byte* f = Utf8.Z(fileSystemType))
        fixed (byte* d = Utf8.Z(data))
            return LibC.mount(s, t, f, (ulong_t)flags, d);
    }

    /// <summary>umount2(2); MNT_DETACH detaches now and finishes when the mount is no longer busy.</summary>
    internal static int Umount2(string target, int flags)
    {
        fixed (byte* t = Utf8.Z(target))
            return LibC.umount2(t, flags);
    }
}
