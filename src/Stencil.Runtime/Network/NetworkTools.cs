namespace Stencil.Runtime.Network;

/// <summary>
/// Where iproute2's <c>ip</c> and <c>tc</c> and util-linux's <c>nsenter</c> are. Commands run inside a
/// pod's namespace through <c>nsenter --net=PATH</c> because <c>ip -n</c> only takes names under
/// /run/netns, and a pod's namespace may live elsewhere (containerd's state dir, /proc/PID/ns/net).
/// Paths are absolute so the shim does not depend on the PATH containerd hands it (often without sbin).
/// </summary>
public sealed record NetworkTools(string Nsenter, string Ip, string Tc)
{
    private static readonly string[] s_fallbackDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

    /// <summary>Finds the three on PATH, then in the usual sbin and bin folders.</summary>
    public static NetworkTools Find() =>
        new(FindExecutable("nsenter", "util-linux"), FindExecutable("ip", "iproute2"), FindExecutable("tc", "iproute2"));

    /// <param name="neededFor">What needs it, for the error ("pod networking").</param>
    internal static string FindExecutable(string name, string package, string neededFor = "pod networking")
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(s_fallbackDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw StencilException.FailedPrecondition(
            $"{name} was not found on PATH ({path}) nor in {string.Join(", ", s_fallbackDirectories)}: {neededFor} needs it (Debian package {package})");
    }
}
