using System.Diagnostics;

namespace Stencil.Runtime.Tests.Network;

/// <summary>
/// Two network namespaces created for one test, joined by a veth pair, as CNI leaves a pod: "pod"
/// holds eth0 with 10.213.N.2/24 and a default route via 10.213.N.1; "peer" holds the other end,
/// peer0, with 10.213.N.1/24 (standing in for the bridge or the node). Both namespaces have nothing
/// else: no frame can leave them. Dispose deletes both (and everything in them).
/// </summary>
internal sealed class NamespacePair : IDisposable
{
    private NamespacePair(string pod, string peer, int subnet)
    {
        Pod = pod;
        Peer = peer;
        Subnet = subnet;
    }

    public string Pod { get; }

    public string Peer { get; }

    public string PodPath => "/run/netns/" + Pod;

    public string PeerPath => "/run/netns/" + Peer;

    public int Subnet { get; }

    public string PodAddress => $"10.213.{Subnet}.2";

    public string PeerAddress => $"10.213.{Subnet}.1";

    /// <summary>Fails with the Debian package to install when a tool the tests use is missing.</summary>
    public static void RequireTools()
    {
        foreach (var (path, package) in new[] { ("/usr/sbin/ip", "iproute2"), ("/usr/sbin/tc", "iproute2"), ("/usr/bin/nsenter", "util-linux"), ("/bin/busybox", "busybox-static"), ("/dev/net/tun", "the tun kernel module") })
        {
            if (!File.Exists(path))
                throw new InvalidOperationException($"prerequisite missing: {path} (run `make deps`: {package})");
        }
    }

    /// <summary>The pod namespace with its veth and addresses; <paramref name="withInterface"/> false
    /// leaves it with loopback only (CNI never ran).</summary>
    public static NamespacePair Create(bool withInterface = true)
    {
        RequireTools();
        var id = Guid.NewGuid().ToString("N")[..8];
        var pair = new NamespacePair("stencil-test-" + id, "stencil-test-" + id + "-peer", Random.Shared.Next(1, 254));
        try
        {
            Ip("netns", "add", pair.Pod);
            Ip("netns", "add", pair.Peer);
            if (withInterface)
            {
                Ip("-n", pair.Pod, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", pair.Peer);
                // No IPv6 link-local addresses, so neither end sends anything by itself (DAD, router
                // solicitations): every frame counted on peer0 is one the test sent.
                Ip("-n", pair.Pod, "link", "set", "eth0", "addrgenmode", "none");
                Ip("-n", pair.Peer, "link", "set", "peer0", "addrgenmode", "none");
                Ip("-n", pair.Pod, "addr", "add", pair.PodAddress + "/24", "dev", "eth0");
                Ip("-n", pair.Pod, "link", "set", "eth0", "up");
                Ip("-n", pair.Pod, "route", "add", "default", "via", pair.PeerAddress, "dev", "eth0");
                Ip("-n", pair.Peer, "addr", "add", pair.PeerAddress + "/24", "dev", "peer0");
                Ip("-n", pair.Peer, "link", "set", "peer0", "up");
            }
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    /// <summary>Runs ip and returns its stdout; a failure throws with stderr.</summary>
    public static string Ip(params string[] args) => Run("/usr/sbin/ip", args);

    /// <summary>Runs a program inside a namespace (nsenter) and returns stdout.</summary>
    public static string InNamespace(string netnsPath, params string[] command) =>
        Run("/usr/bin/nsenter", ["--net=" + netnsPath, "--", .. command]);

    public static string Run(string file, params string[] args)
    {
        var startInfo = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
            startInfo.ArgumentList.Add(arg);
        using var process = Process.Start(startInfo)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result.Trim()}");
        return stdout;
    }

    public void Dispose()
    {
        foreach (var name in new[] { Pod, Peer })
        {
            if (File.Exists("/run/netns/" + name))
                Ip("netns", "del", name);
        }
    }
}
