using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>bind(2) to a unix socket path (sockaddr_un). Throws InvalidArgument for a path of 108 bytes or more
    /// (check first with <see cref="UnixAddress.CheckLength"/> for a message of your own).</summary>
    internal static int BindUnix(SafeHandle socket, string path)
    {
        var address = new sockaddr_un { sun_family = LibC.AF_UNIX };
        var length = UnixAddress.Fill(&address, path);
        return Bind(socket, (sockaddr*)&address, length);
    }

    /// <summary>bind(2) to a vsock port (sockaddr_vm).</summary>
    internal static int BindVsock(SafeHandle socket, uint cid, uint port)
    {
        var address = new SockaddrVm { Family = (ushort)(int)LibC.AF_VSOCK, Port = port, Cid = cid };
        return Bind(socket, (sockaddr*)&address, sizeof(SockaddrVm));
    }

    /// <summary>bind(2) of a netlink socket to multicast <paramref name="groups"/> (sockaddr_nl; the kernel picks the port id).</summary>
    internal static int BindNetlink(SafeHandle socket, uint groups)
    {
        var address = new SockaddrNl { Family = SockaddrNl.AfNetlink, Groups = groups };
        return Bind(socket, (sockaddr*)&address, sizeof(SockaddrNl));
    }

    private static int Bind(SafeHandle socket, sockaddr* address, int length)
    {
        using var lease = new FdLease(socket);
        return LibC.bind(lease.Fd, address, length);
    }
}
