using System.Text.RegularExpressions;
using Stencil.Interop;

namespace Stencil.Agent.Containers;

/// <summary>
/// Where things live in the guest, and the checks that keep a path the host sends inside the folder
/// it belongs to. The lexical checks are pure; <see cref="RealPathInside"/> resolves symlinks.
/// </summary>
internal static partial class GuestPaths
{
    internal const string Base = "/run/stencil";
    internal const string ContainersRoot = "/run/stencil/containers";
    internal const string RuntimeStateRoot = "/run/stencil/oci";
    internal const string DefaultSharedPath = "/run/stencil/shared";
    internal const string EphemeralRoot = "/run/stencil/ephemeral";

    /// <summary>The pod's hostname, hosts and resolv.conf, when the agent holds the pod's namespaces.</summary>
    internal const string PodFilesRoot = "/run/stencil/pod";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex IdPattern();

    /// <summary>Container and exec ids become file names: a conservative alphabet, no "." or "..".</summary>
    internal static void CheckId(string id, string field)
    {
        if (string.IsNullOrEmpty(id))
            throw StencilException.InvalidArgument($"{field} is empty");
        if (!IdPattern().IsMatch(id))
            throw StencilException.InvalidArgument($"{field} \"{id}\" is not a valid id (letters, digits, '_', '.', '-'; at most 128)");
    }

    internal static string ContainerDir(string id) => Path.Combine(ContainersRoot, id);

    /// <summary>Console sockets live in a folder of their own under short names: a unix socket path has at
    /// most 107 bytes, and CONTAINER_DIR/exec-EXECID.sock with containerd's 64-character ids is 162.</summary>
    internal const string ConsoleSocketsRoot = "/run/stencil/tty";

    private static long s_consoleSockets;

    /// <summary>A fresh path for an OCI runtime's --console-socket (the folder is made if missing).</summary>
    internal static string NewConsoleSocketPath()
    {
        Directory.CreateDirectory(ConsoleSocketsRoot);
        return Path.Combine(ConsoleSocketsRoot, $"{Interlocked.Increment(ref s_consoleSockets)}.sock");
    }

    /// <summary>
    /// A path the host names relative to <paramref name="root"/> (or absolute inside it): no ".."
    /// component, no escape. Returns the absolute, normalized path. Pure.
    /// </summary>
    internal static string Inside(string root, string path, string field, bool allowAbsolute = true)
    {
        if (string.IsNullOrEmpty(path))
            throw StencilException.InvalidArgument($"{field} is empty");
        if (path.Contains('\0'))
            throw StencilException.InvalidArgument($"{field} contains a NUL character");
        foreach (var part in path.Split('/'))
        {
            if (part == "..")
                throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" contains \"..\"");
        }
        string full;
        if (path.StartsWith('/'))
        {
            if (!allowAbsolute)
                throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" must be relative to {root}");
            full = Normalize(path);
        }
        else
        {
            full = Normalize(root + "/" + path);
        }
        if (!IsUnder(full, root))
            throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" is outside {root}");
        return full;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or below it (both normalized).</summary>
    internal static bool IsUnder(string path, string root)
    {
        root = root.TrimEnd('/');
        return path == root || path.StartsWith(root + "/", StringComparison.Ordinal) || root.Length == 0;
    }

    /// <summary>Collapses "//" and "/./"; ".." never reaches here.</summary>
    internal static string Normalize(string absolute)
    {
        var parts = absolute.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".");
        return "/" + string.Join('/', parts);
    }

    /// <summary>
    /// Resolves symlinks of an existing path and checks the result is still under one of
    /// <paramref name="roots"/> (each resolved too): a symlink in the shared folder cannot lead to
    /// the guest's own files.
    /// </summary>
    internal static string RealPathInside(string path, string field, params string[] roots)
    {
        var real = RealPath(path) ?? throw StencilException.NotFound($"{field} \"{path}\" does not exist");
        foreach (var root in roots)
        {
            if (IsUnder(real, RealPath(root) ?? root))
                return real;
        }
        throw new StencilException(ErrorKind.PermissionDenied,
            $"{field} \"{path}\" resolves to \"{real}\", outside {string.Join(" and ", roots)}");
    }

    internal static string? RealPath(string path) => Libc.RealPath(path);
}
