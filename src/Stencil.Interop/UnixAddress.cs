using System.Text;
using Tmds.Linux;

namespace Stencil.Interop;

/// <summary>The path part of a sockaddr_un (Tmds.LibC's layout: a family, then 108 bytes of path).</summary>
internal static unsafe class UnixAddress
{
    internal const int MaxPathBytes = 108;

    /// <summary>Throws InvalidArgument ("shim socket path /x is 120 bytes long; ...") when <paramref name="path"/> does not fit.</summary>
    /// <param name="what">What the socket is, for the message ("shim socket").</param>
    internal static void CheckLength(string path, string what)
    {
        var count = Encoding.UTF8.GetByteCount(path);
        if (count >= MaxPathBytes)
            throw StencilException.InvalidArgument($"{what} path {path} is {count} bytes long; it must be shorter than {MaxPathBytes}");
    }

    /// <summary>Writes <paramref name="path"/> (NUL-terminated) into the address; returns the length to pass to bind or connect.</summary>
    internal static int Fill(sockaddr_un* address, string path)
    {
        CheckLength(path, "unix socket");
        var count = Encoding.UTF8.GetByteCount(path);
        var destination = new Span<byte>(address->sun_path, MaxPathBytes);
        destination.Clear();
        Encoding.UTF8.GetBytes(path, destination);
        return sizeof(ushort) + count + 1;
    }
}
