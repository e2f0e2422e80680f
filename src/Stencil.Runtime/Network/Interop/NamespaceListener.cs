using System.Net;
using System.Net.Sockets;

namespace Stencil.Runtime.Network.Interop;

/// <summary>
/// A listening TCP socket on 127.0.0.1 inside another network namespace. A socket belongs to the
/// namespace it was created in, wherever it is used afterwards, so only its creation needs the
/// namespace: it is created on a thread inside it (<see cref="NetworkNamespaceThread"/>).
/// </summary>
internal static class NamespaceListener
{
    public static Task<Socket> ListenOnLoopbackAsync(string networkNamespacePath, int backlog) =>
        NetworkNamespaceThread.RunAsync(networkNamespacePath, "stencil-listen-netns", () => Listen(networkNamespacePath, backlog));

    private static Socket Listen(string networkNamespacePath, int backlog)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw StencilException.Internal($"listening on 127.0.0.1 in {networkNamespacePath}: {ex.Message}");
        }
    }
}
