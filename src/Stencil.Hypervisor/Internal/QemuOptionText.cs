using System.Text;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Values inside QEMU's "key=value,key=value" option syntax: a comma inside a value is written
/// twice, so a path containing one cannot split the option and inject another key.
/// </summary>
internal static class QemuOptionText
{
    public static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);

    /// <summary>A host path that goes into an option: absolute-or-relative, but no NUL or line breaks.</summary>
    public static string CheckPath(string field, string? path)
    {
        if (string.IsNullOrEmpty(path))
            throw StencilException.InvalidArgument($"{field} is empty: a path is required");
        if (path.AsSpan().IndexOfAny('\0', '\n', '\r') >= 0)
            throw StencilException.InvalidArgument($"{field} = \"{Printable(path)}\": contains a NUL or line break");
        return path;
    }

    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxUnixSocketPathBytes = 107;

    public static string CheckSocketPath(string field, string? path)
    {
        CheckPath(field, path);
        var bytes = Encoding.UTF8.GetByteCount(path!);
        if (bytes > MaxUnixSocketPathBytes)
            throw StencilException.InvalidArgument(
                $"{field} = \"{path}\": {bytes} bytes, a unix socket path may have at most {MaxUnixSocketPathBytes}");
        return path!;
    }

    /// <summary>A name that QEMU takes as an identifier (ids, port names, mount tags).</summary>
    public static string CheckName(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
            throw StencilException.InvalidArgument($"{field} is empty");
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                throw StencilException.InvalidArgument(
                    $"{field} = \"{Printable(value)}\": only ASCII letters, digits, '.', '-' and '_' are allowed");
        }
        return value;
    }

    private static string Printable(string s) =>
        s.Replace("\0", "\\0", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
