using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Stencil.Ttrpc.Internal;

/// <summary>struct ucred of a connected unix socket's peer, as the kernel recorded it at connect(2).</summary>
internal readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;    // SOL_SOCKET on Linux
    private const int SoPeerCred = 17;  // SO_PEERCRED on Linux
    private const int UcredSize = 12;   // struct ucred { pid_t pid; uid_t uid; gid_t gid; }

    /// <summary>getsockopt(SO_PEERCRED) through the BCL, so no P/Invoke or package is needed.</summary>
    public static PeerCredentials Read(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[UcredSize];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length != UcredSize)
            throw new StencilException(ErrorKind.Internal, $"SO_PEERCRED returned {length} bytes, expected {UcredSize}");
        // Native byte order: the kernel fills the struct in place.
        return new PeerCredentials(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
    }
}
