using System.Text;

namespace Stencil.Agent.Pod;

/// <summary>
/// The pod's /etc/hostname, /etc/hosts and /etc/resolv.conf, which containerd's CRI writes on the
/// host when a pause container holds the pod, and leaves to the sandbox with the sandbox API. The
/// texts are pure; <see cref="Write"/> puts them in the pod's folder, from where
/// <see cref="PodMounts"/> binds them into each container.
/// </summary>
internal static class PodFiles
{
    internal const string Hostname = "hostname";
    internal const string Hosts = "hosts";
    internal const string ResolvConf = "resolv.conf";

    internal static string HostnameText(string hostname) => hostname + "\n";

    /// <summary>localhost for IPv4 and IPv6, and the pod's own name on 127.0.1.1 (no pod IP is known here).</summary>
    internal static string HostsText(string hostname)
    {
        var text = new StringBuilder();
        text.Append("127.0.0.1\tlocalhost\n");
        text.Append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        if (hostname.Length > 0 && hostname != "localhost")
            text.Append("127.0.1.1\t").Append(hostname).Append('\n');
        return text.ToString();
    }

    /// <summary>The request's DNS settings; without any, the guest's own file (<paramref name="guestResolvConf"/>, null: none, so empty).</summary>
    internal static string ResolvConfText(IReadOnlyList<string> servers, IReadOnlyList<string> search, IReadOnlyList<string> options,
        string? guestResolvConf)
    {
        if (servers.Count + search.Count + options.Count == 0)
            return guestResolvConf ?? "";
        // containerd's order for a pod's file (search, nameserver, options), so a pod reads the same under either sandboxer.
        var text = new StringBuilder();
        if (search.Count > 0)
            text.Append("search ").Append(string.Join(' ', search)).Append('\n');
        foreach (var server in servers)
            text.Append("nameserver ").Append(server).Append('\n');
        if (options.Count > 0)
            text.Append("options ").Append(string.Join(' ', options)).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// Writes the three files into <paramref name="dir"/> (made if missing). The agent's umask (022)
    /// leaves them readable by every user of the pod.
    /// </summary>
    internal static void Write(string dir, string hostname, string resolvConf)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, Hostname), HostnameText(hostname));
        File.WriteAllText(Path.Combine(dir, Hosts), HostsText(hostname));
        File.WriteAllText(Path.Combine(dir, ResolvConf), resolvConf);
    }
}
