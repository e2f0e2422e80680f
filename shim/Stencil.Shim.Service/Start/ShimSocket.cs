using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Shim.Start;

/// <summary>
/// The pod's shim socket: a filesystem unix socket named by a hash of (containerd's address,
/// namespace, pod id), so every container of one pod finds the same daemon, and two containerds on
/// one machine never share one. Binding it is the lock that elects the one `start` that spawns the
/// daemon: bind either succeeds or fails with EADDRINUSE, atomically.
/// </summary>
internal static class ShimSocket
{
    public const string AddressPrefix = "unix://";

    /// <summary>Pure: the socket path for one pod.</summary>
    public static string PathFor(string socketDir, string containerdAddress, string ns, string podId)
    {
        // "stencil" keeps these names apart from the runc shim's sha256(address/ns/id) sockets.
        var key = Encoding.UTF8.GetBytes($"stencil\0{containerdAddress}\0{ns}\0{podId}");
        return Path.Combine(socketDir, Convert.ToHexStringLower(SHA256.HashData(key)));
    }

    /// <summary>
    /// Binds and listens on <paramref name="path"/> (mode 0600); null when another socket file is
    /// there already (a live daemon, or a stale file: see <see cref="CanConnect"/>). Raw syscalls on
    /// purpose: a .NET Socket deletes the file it bound when disposed, and `start` must close its copy
    /// while the daemon keeps serving on that file.
    /// </summary>
    public static SafeFileHandle? TryListen(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        UnixAddress.CheckLength(path, "shim socket");
        var handle = Errno.Check(Libc.Socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0), "create the shim socket");
        if (Libc.BindUnix(handle, path) != 0)
        {
            var errno = Errno.Last;
            handle.Dispose();
            if (errno == LibC.EADDRINUSE)
                return null;
            throw Errno.Exception(errno, $"bind shim socket {path}");
        }
        try
        {
            if (!OperatingSystem.IsWindows()) // always true; the guard tells the platform analyzer so
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600: containerd (same uid) only
            if (Libc.Listen(handle, 64) != 0)
                throw Errno.LastException($"listen on shim socket {path}");
        }
        catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
        {
            handle.Dispose();
            Remove(path);
            throw ex as StencilException ?? new StencilException(ErrorKind.Internal, $"chmod shim socket {path}: {ex.Message}", ex);
        }
        return handle;
    }

    /// <summary>Whether a daemon accepts connections on <paramref name="path"/>.</summary>
    public static bool CanConnect(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Non-blocking: connect() on a unix socket then answers at once: ECONNREFUSED for a stale
        // file, success while a listener exists (even before it accepts), EAGAIN when its backlog is
        // full (alive, only busy).
        socket.Blocking = false;
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.TryAgain)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Removes a socket file; a missing file is fine.</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public static string Address(string path) => AddressPrefix + path;
}
