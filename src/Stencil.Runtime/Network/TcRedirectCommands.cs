namespace Stencil.Runtime.Network;

/// <summary>
/// The iproute2 command lines of the tc-redirect plumbing (pure functions; golden-string tests), each
/// run inside the pod's network namespace through nsenter.
///
/// The model is Kata's "tcfilter": an ingress qdisc on the pod's interface and on the tap, each with
/// one filter that matches every frame and redirects it to the other device's egress. Nothing in the
/// namespace changes otherwise (the veth keeps its addresses; no bridge, no MAC change). The match is
/// <c>u32 match u8 0 0</c> (matches everything) rather than <c>matchall</c>: cls_matchall is often not
/// built (this project's machines lack it: "TC classifier not found"), while cls_u32 is everywhere
/// Kata runs.
/// </summary>
internal static class TcRedirectCommands
{
    /// <summary>Links and their addresses, with -d for linkinfo.kind (veth, tun, ...).</summary>
    public static NetworkCommand ShowLinks(NetworkTools tools, string netns) =>
        InNamespace(tools, netns, tools.Ip, "-j", "-d", "addr", "show");

    public static NetworkCommand ShowRoutes(NetworkTools tools, string netns, bool ipv6) =>
        InNamespace(tools, netns, tools.Ip, "-j", ipv6 ? "-6" : "-4", "route", "show");

    /// <summary>The tap at the interface's MTU, without IPv6 link-local address generation (the tap is a
    /// pipe to the guest: the namespace's own stack should not speak on it), and up.</summary>
    public static NetworkCommand SetTapUp(NetworkTools tools, string netns, string tap, int mtu) =>
        InNamespace(tools, netns, tools.Ip, "link", "set", "dev", tap, "mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture), "addrgenmode", "none", "up");

    public static NetworkCommand AddIngressQdisc(NetworkTools tools, string netns, string device) =>
        InNamespace(tools, netns, tools.Tc, "qdisc", "add", "dev", device, "ingress");

    /// <summary>Every frame received on <paramref name="from"/> is sent out of <paramref name="to"/>.</summary>
    public static NetworkCommand AddRedirect(NetworkTools tools, string netns, string from, string to) =>
        InNamespace(tools, netns, tools.Tc, "filter", "add", "dev", from, "parent", "ffff:", "protocol", "all",
            "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", to);

    /// <summary>Removes the ingress qdisc and with it every filter under it.</summary>
    public static NetworkCommand DeleteIngressQdisc(NetworkTools tools, string netns, string device) =>
        InNamespace(tools, netns, tools.Tc, "qdisc", "del", "dev", device, "ingress");

    public static NetworkCommand ShowQdiscs(NetworkTools tools, string netns, string device) =>
        InNamespace(tools, netns, tools.Tc, "-j", "qdisc", "show", "dev", device);

    public static NetworkCommand DeleteLink(NetworkTools tools, string netns, string device) =>
        InNamespace(tools, netns, tools.Ip, "link", "del", "dev", device);

    private static NetworkCommand InNamespace(NetworkTools tools, string netns, string program, params string[] arguments) =>
        new(tools.Nsenter, ["--net=" + netns, "--", program, .. arguments]);
}
