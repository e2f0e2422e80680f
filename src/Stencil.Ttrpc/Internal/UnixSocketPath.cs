using System.Text;

namespace Stencil.Ttrpc.Internal;

/// <summary>Checks a unix socket path before the kernel does, so the error names the path.</summary>
internal static class UnixSocketPath
{
    // sizeof(sockaddr_un.sun_path) on Linux, including the terminating NUL.
    private const int MaxPathBytes = 108;

    /// <summary>The filesystem path, with containerd's optional "unix://" prefix removed.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.StartsWith("unix://", StringComparison.Ordinal))
            path = path["unix://".Length..];
        if (path.Length == 0)
            throw new StencilException(ErrorKind.InvalidArgument, "ttrpc socket path is empty");
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes >= MaxPathBytes)
            throw new StencilException(ErrorKind.InvalidArgument,
                $"ttrpc socket path {path} is {bytes} bytes long; unix socket paths must be shorter than {MaxPathBytes}");
        return path;
    }
}
