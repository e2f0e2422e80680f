using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Stencil.Runtime.Network;

/// <summary>
/// Where a redirected connection was going: netfilter's SO_ORIGINAL_DST (getsockopt at level SOL_IP)
/// answers with the destination before NAT, as a struct sockaddr_in.
/// </summary>
internal static class OriginalDestination
{
    /// <summary>SOL_IP (= IPPROTO_IP) from netinet/in.h.</summary>
    public const int SolIp = 0;

    /// <summary>SO_ORIGINAL_DST from linux/netfilter_ipv4.h.</summary>
    public const int SoOriginalDst = 80;

    /// <summary>sizeof(struct sockaddr_in).</summary>
    public const int SockaddrInSize = 16;

    private const ushort AfInet = 2;

    /// <summary>
    /// Reads a struct sockaddr_in: sin_family (host order, AF_INET = 2), sin_port (network order),
    /// sin_addr (network order), 8 bytes of zero padding.
    /// </summary>
    public static IPEndPoint Parse(ReadOnlySpan<byte> sockaddrIn)
    {
        if (sockaddrIn.Length < 8)
            throw StencilException.InvalidArgument($"SO_ORIGINAL_DST returned {sockaddrIn.Length} bytes; a sockaddr_in needs at least 8");
        var family = BitConverter.IsLittleEndian
            ? BinaryPrimitives.ReadUInt16LittleEndian(sockaddrIn)
            : BinaryPrimitives.ReadUInt16BigEndian(sockaddrIn);
        if (family != AfInet)
            throw StencilException.InvalidArgument($"SO_ORIGINAL_DST returned address family {family}, not AF_INET (2)");
        var port = BinaryPrimitives.ReadUInt16BigEndian(sockaddrIn[2..]);
        return new IPEndPoint(new IPAddress(sockaddrIn.Slice(4, 4)), port);
    }

    /// <summary>The original destination of an accepted, NAT-redirected TCP connection.</summary>
    public static IPEndPoint Of(Socket accepted)
    {
        Span<byte> buffer = stackalloc byte[SockaddrInSize];
        int length;
        try
        {
            length = accepted.GetRawSocketOption(SolIp, SoOriginalDst, buffer);
        }
        catch (SocketException ex)
        {
            // ENOENT: no conntrack entry, i.e. the connection was not redirected.
            throw StencilException.FailedPrecondition($"SO_ORIGINAL_DST of the connection from {accepted.RemoteEndPoint}: {ex.Message}");
        }
        return Parse(buffer[..length]);
    }
}
