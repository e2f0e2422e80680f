using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Stencil.Runtime.Interop;

namespace Stencil.Runtime.Network.Interop;

/// <summary>
/// A listening TCP socket on 127.0.0.1 inside another network namespace. A socket belongs to the
/// namespace it was created in, wherever it is used afterwards, so only its creation needs the
/// namespace: a thread of its own joins it (setns changes the calling thread only), creates, binds
/// and listens, goes back and ends.
/// </summary>
internal static class NamespaceListener
{
    public static Task<Socket> ListenOnLoopbackAsync(string networkNamespacePath, int backlog)
    {
        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(ListenOnThisThread(networkNamespacePath, backlog));
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "stencil-listen-netns",
        };
        thread.Start();
        return result.Task;
    }

    private static Socket ListenOnThisThread(string networkNamespacePath, int backlog)
    {
        var original = OpenOrThrow("/proc/thread-self/ns/net", "this thread's network namespace");
        try
        {
            var target = OpenOrThrow(networkNamespacePath, "network namespace");
            try
            {
                if (NetLibc.SetNs(target, NetLibc.CLONE_NEWNET) != 0)
                    throw Errno.Exception(Marshal.GetLastPInvokeError(), $"joining network namespace {networkNamespacePath}");
            }
            finally
            {
                NetLibc.Close(target);
            }
            try
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
            finally
            {
                // As with the tap: going back is tidiness; the thread ends right after.
                _ = NetLibc.SetNs(original, NetLibc.CLONE_NEWNET);
            }
        }
        finally
        {
            NetLibc.Close(original);
        }
    }

    private static int OpenOrThrow(string path, string what)
    {
        var fd = NetLibc.Open(path, NetLibc.O_RDONLY | NetLibc.O_CLOEXEC);
        if (fd < 0)
            throw Errno.Exception(Marshal.GetLastPInvokeError(), $"opening {what} {path}");
        return fd;
    }
}
