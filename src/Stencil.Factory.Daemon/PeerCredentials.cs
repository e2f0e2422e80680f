using System.Buffers.Binary;
using System.Net.Sockets;

namespace Stencil.Factory.Daemon;

/// <summary>The uid of the process at the other end of a unix socket (SO_PEERCRED), and who may connect.</summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The peer's (pid, uid, gid), or null when the socket cannot say (not a unix socket).</summary>
    public static (int Pid, uint Uid, uint Gid)? Read(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) != 12)
                return null;
        }
        catch (SocketException)
        {
            return null;
        }
        return (BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]), BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }

    /// <summary>Root, the daemon's own uid, and the uids configured: nobody else may take a VM (or read the metrics).</summary>
    public static bool Allowed(uint uid, uint ownUid, IReadOnlyList<uint> allowed) => uid == 0 || uid == ownUid || allowed.Contains(uid);
}
