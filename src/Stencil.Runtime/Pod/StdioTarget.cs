using System.Globalization;

namespace Stencil.Runtime.Pod;

/// <summary>Where containerd asks a process's stdout or stderr to go (the shim contract's stdio URIs).</summary>
public enum StdioTargetKind
{
    /// <summary>Nothing: the stream was not asked for.</summary>
    None,

    /// <summary>A FIFO containerd reads (a plain path, or fifo://PATH).</summary>
    Fifo,

    /// <summary>file:///PATH: appended to that file, created 0600 (with its folder) when missing.</summary>
    File,

    /// <summary>binary:///PATH?ARGS: a logger the shim starts, which reads stdout on fd 3 and stderr on fd 4 and
    /// closes fd 5 when ready (what containerd's shims do; nerdctl's default for detached containers).</summary>
    Binary,
}

/// <summary>
/// One parsed stdio URI. <see cref="Path"/> is the FIFO, file or logger; <see cref="Args"/> the
/// logger's arguments: each query key, then its value when it has one, in key order (containerd's
/// shims take them from Go's map in no fixed order; sorted is the one order that can be documented).
/// </summary>
public sealed record StdioTarget(StdioTargetKind Kind, string Path, IReadOnlyList<string> Args)
{
    public static readonly StdioTarget None = new(StdioTargetKind.None, "", []);

    /// <summary>Parses containerd's stdout/stderr value for one process; <paramref name="stream"/> names it in errors.</summary>
    /// <exception cref="StencilException">InvalidArgument: an unknown scheme, a relative or unclean path.</exception>
    public static StdioTarget Parse(string? value, string stream)
    {
        if (string.IsNullOrEmpty(value))
            return None;
        if (value.StartsWith('/'))
            return new StdioTarget(StdioTargetKind.Fifo, value, []);
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon > 0 ? value[..colon].ToLowerInvariant() : "";
        if (scheme.Length == 0 || !scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            throw StencilException.InvalidArgument($"{stream} \"{value}\": neither an absolute FIFO path nor a URI");
        var kind = scheme switch
        {
            "fifo" => StdioTargetKind.Fifo,
            "file" => StdioTargetKind.File,
            "binary" => StdioTargetKind.Binary,
            _ => throw StencilException.InvalidArgument(
                $"{stream} \"{value}\": unknown stdio scheme \"{scheme}\" (fifo, file and binary are supported)"),
        };
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.Host))
            throw StencilException.InvalidArgument($"{stream} \"{value}\": not a {scheme}:///PATH URI (no host part)");
        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        // System.Uri folds "." and ".." away; the path as written must not have them.
        var written = Uri.UnescapeDataString(value[(colon + 1)..].Split('?')[0].TrimStart('/'));
        if (written.Split('/').Any(segment => segment is "." or ".."))
            path = "/" + written;
        if (!path.StartsWith('/') || path.Contains('\0', StringComparison.Ordinal) || System.IO.Path.GetFullPath(path) != path || path.EndsWith('/'))
            throw StencilException.InvalidArgument($"{stream} \"{value}\": the path \"{path}\" is not a clean absolute path");
        if (kind != StdioTargetKind.Binary && uri.Query.Length > 0)
            throw StencilException.InvalidArgument($"{stream} \"{value}\": a {scheme} URI takes no query");
        return new StdioTarget(kind, path, kind == StdioTargetKind.Binary ? QueryArgs(uri.Query) : []);
    }

    private static List<string> QueryArgs(string query)
    {
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            pairs.TryAdd(key, value); // the first value of a repeated key, as Go's Values.Get
        }
        var args = new List<string>();
        foreach (var (key, value) in pairs)
        {
            args.Add(key);
            if (value.Length > 0)
                args.Add(value);
        }
        return args;
    }

    public override string ToString() => Kind switch
    {
        StdioTargetKind.None => "none",
        StdioTargetKind.Binary => string.Create(CultureInfo.InvariantCulture, $"binary {Path} {string.Join(' ', Args)}").TrimEnd(),
        _ => $"{Kind.ToString().ToLowerInvariant()} {Path}",
    };
}
