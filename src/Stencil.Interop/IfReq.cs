using System.Runtime.InteropServices;
using System.Text;

namespace Stencil.Interop;

/// <summary>
/// struct ifreq as the tun ioctls use it: the interface name (IFNAMSIZ bytes), then a 24-byte union
/// whose first member is the flags. Tmds.LibC does not define it.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
internal unsafe struct IfReq
{
    internal const int Size = 40;
    internal const int NameSize = 16; // IFNAMSIZ, NUL included

    internal const short IFF_TAP = 0x0002;
    internal const short IFF_NO_PI = 0x1000;
    internal const short IFF_VNET_HDR = 0x4000;
    internal const short IFF_MULTI_QUEUE = 0x0100;

    public fixed byte Name[NameSize];
    public short Flags;

    /// <summary>A request for <paramref name="name"/> (ASCII, shorter than <see cref="NameSize"/>).</summary>
    internal static IfReq For(string name, short flags)
    {
        var request = new IfReq { Flags = flags };
        Encoding.ASCII.GetBytes(name, new Span<byte>(request.Name, NameSize - 1));
        return request;
    }
}
