using System.Globalization;

namespace Stencil.Runtime.Network;

/// <summary>
/// The nftables ruleset of a pod's port-forward relay (pure; golden-string tests). containerd's CRI
/// PortForward dials localhost:PORT inside the pod's network namespace on the host, but a VM pod's
/// servers listen in the guest. One NAT rule in that namespace sends every TCP connection to
/// 127.0.0.1, whatever its port, to the relay's port; the relay reads the port that was asked for
/// with SO_ORIGINAL_DST and opens the same port in the guest through the agent. Connections to the
/// relay's own port are left alone, so nothing loops. The table lives in the pod's namespace only and
/// goes with it.
/// </summary>
internal static class PortForwardRuleset
{
    /// <summary>The table's name, in family ip (containerd dials tcp4).</summary>
    public const string Table = "stencil";

    /// <summary>
    /// The ruleset for <c>nft -f -</c>, one transaction. It first declares and deletes the table, so
    /// loading it again (a restarted shim, a retried start) replaces the rule instead of adding a second.
    /// </summary>
    public static string Build(int relayPort)
    {
        if (relayPort is <= 0 or > ushort.MaxValue)
            throw StencilException.InvalidArgument($"relay port {relayPort} is out of range (1-65535)");
        var port = relayPort.ToString(CultureInfo.InvariantCulture);
        return $$"""
            table ip {{Table}}
            delete table ip {{Table}}
            table ip {{Table}} {
              chain output {
                type nat hook output priority -100; policy accept;
                ip daddr 127.0.0.1 tcp dport != {{port}} redirect to :{{port}}
              }
            }

            """;
    }

    /// <summary>Loads a ruleset from stdin inside the namespace.</summary>
    public static NetworkCommand Load(string nsenter, string nft, string netns) =>
        new(nsenter, ["--net=" + netns, "--", nft, "-f", "-"]);

    /// <summary>Removes the table (with its chain and rule) from the namespace.</summary>
    public static NetworkCommand Delete(string nsenter, string nft, string netns) =>
        new(nsenter, ["--net=" + netns, "--", nft, "delete", "table", "ip", Table]);
}
