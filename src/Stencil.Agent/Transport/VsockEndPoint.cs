using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Stencil.Agent.Transport;

/// <summary>
/// An AF_VSOCK address for .NET's Socket, which has no built-in vsock support:
/// struct sockaddr_vm { sa_family_t family; unsigned short reserved; unsigned int port; unsigned int cid; unsigned char zero[4]; }.
/// </summary>
internal sealed class VsockEndPoint(uint cid, uint port) : EndPoint
{
    internal const AddressFamily VsockFamily = (AddressFamily)40;
    internal const uint AnyCid = 0xFFFFFFFF;
    private const int Size = 16;

    internal uint Cid { get; } = cid;

    internal uint Port { get; } = port;

    public override AddressFamily AddressFamily => VsockFamily;

    public override SocketAddress Serialize()
    {
        var address = new SocketAddress(VsockFamily, Size);
        var bytes = address.Buffer.Span;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], Port);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], Cid);
        return address;
    }

    public override EndPoint Create(SocketAddress socketAddress)
    {
        var bytes = socketAddress.Buffer.Span;
        return new VsockEndPoint(BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]));
    }

    public override string ToString() => $"vsock:{Cid}:{Port}";
}
