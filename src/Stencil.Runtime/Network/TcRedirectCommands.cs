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

    /// <summary>
    /// tc in batch mode, reading <see cref="JoinSteps"/> from stdin: one process for the four steps
    /// instead of four (each start of nsenter + tc costs ~13 ms, and the pod's start waits for them).
    /// tc stops at the first failing line and names it on stderr ("Command failed -:N").
    /// </summary>
    public static NetworkCommand TcBatch(NetworkTools tools, string netns) =>
        InNamespace(tools, netns, tools.Tc, "-batch", "-");

    /// <summary>
    /// The lines of the tc batch that joins <paramref name="link"/> and <paramref name="tap"/>, each with
    /// what it does: an ingress qdisc on each device, and under it a filter that sends every frame
    /// received on that device out of the other one.
    /// </summary>
    public static IReadOnlyList<(string Line, string What)> JoinSteps(string link, string tap) =>
    [
        ($"qdisc add dev {link} ingress", $"adding an ingress qdisc to {link}"),
        (Redirect(link, tap), $"redirecting {link} to {tap}"),
        ($"qdisc add dev {tap} ingress", $"adding an ingress qdisc to {tap}"),
        (Redirect(tap, link), $"redirecting {tap} to {link}"),
    ];

    /// <summary>The line of a tc batch that failed, from tc's "Command failed -:N" on stderr; null when it says none.</summary>
    public static int? FailedBatchLine(string stderr)
    {
        const string marker = "Command failed -:";
        var at = stderr.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
            return null;
        var digits = stderr[(at + marker.Length)..].TakeWhile(char.IsAsciiDigit).ToArray();
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var line) ? line : null;
    }

    /// <summary>Every frame received on <paramref name="from"/> is sent out of <paramref name="to"/>.</summary>
    private static string Redirect(string from, string to) =>
        $"filter add dev {from} parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev {to}";

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
