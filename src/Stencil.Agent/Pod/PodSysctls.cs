using System.Text.RegularExpressions;

namespace Stencil.Agent.Pod;

/// <summary>
/// The pod's sysctls, sorted by the kernel namespace they belong to (what runc and containerd check
/// for a container). The VM's network is the pod's, so net.* go to the guest's own network
/// namespace; the IPC ones to the pod's IPC namespace (the holder's); a sysctl of no namespace would
/// change the whole guest kernel, which a pod may not ask for. Pure.
/// </summary>
internal static partial class PodSysctls
{
    // Dotted names only: no '/' (sysctl(8)'s escape for a '.' inside a name) and no empty, "." or ".."
    // level, so a key can never name a file outside /proc/sys.
    [GeneratedRegex("^[a-z0-9_-]+(\\.[a-z0-9_-]+)+$")]
    private static partial Regex KeyPattern();

    /// <summary>Splits <paramref name="sysctls"/>; throws InvalidArgument for a malformed one or one of no namespace.</summary>
    internal static (IReadOnlyList<Sysctl> Network, IReadOnlyList<Sysctl> Ipc) Classify(IEnumerable<Sysctl> sysctls)
    {
        var network = new List<Sysctl>();
        var ipc = new List<Sysctl>();
        foreach (var sysctl in sysctls)
        {
            var (key, value) = sysctl;
            if (key.Length > 256 || !KeyPattern().IsMatch(key))
                throw StencilException.InvalidArgument($"sysctl \"{key}\" is not a sysctl name (dotted levels of a-z 0-9 _ -)");
            if (value.Contains('\n') || value.Contains('\0'))
                throw StencilException.InvalidArgument($"sysctl \"{key}\": the value contains a newline or a NUL");
            if (key.StartsWith("net.", StringComparison.Ordinal))
                network.Add(sysctl);
            else if (IsIpc(key))
                ipc.Add(sysctl);
            else
                throw StencilException.InvalidArgument($"sysctl \"{key}\" is not in a separate kernel namespace");
        }
        return (network, ipc);
    }

    /// <summary>The IPC namespace's sysctls (the list runc's validator allows for an IPC namespace).</summary>
    internal static bool IsIpc(string key) =>
        key.StartsWith("kernel.shm", StringComparison.Ordinal) || key.StartsWith("kernel.msg", StringComparison.Ordinal)
        || key == "kernel.sem" || key.StartsWith("fs.mqueue.", StringComparison.Ordinal);

    /// <summary>The file under /proc/sys of a checked key.</summary>
    internal static string ProcPath(string key) => "/proc/sys/" + key.Replace('.', '/');
}
