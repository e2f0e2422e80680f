using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Stencil.Runtime.Network;

/// <summary>
/// Reads the JSON that iproute2 prints with -j (pure functions over text, tested with captured output).
/// JsonDocument, not a serializer: no reflection under NativeAOT, and unknown keys are ignored.
/// </summary>
internal static class IpJson
{
    /// <summary>Links with their global addresses from <c>ip -j -d addr show</c>.</summary>
    public static IReadOnlyList<LinkState> ParseLinks(string json)
    {
        using var document = Parse(json, "ip -j -d addr show");
        var links = new List<LinkState>();
        foreach (var link in document.RootElement.EnumerateArray())
        {
            var name = String(link, "ifname") ?? throw Malformed("ip addr show", "a link without ifname");
            var addresses = new List<InterfaceAddress>();
            if (link.TryGetProperty("addr_info", out var info))
            {
                foreach (var address in info.EnumerateArray())
                {
                    if (String(address, "scope") != "global" || String(address, "local") is not { } local)
                        continue;
                    if (!IPAddress.TryParse(local, out var ip) || !address.TryGetProperty("prefixlen", out var prefix))
                        throw Malformed("ip addr show", $"address \"{local}\" of {name}");
                    addresses.Add(new InterfaceAddress(ip, prefix.GetInt32()));
                }
            }
            var kind = link.TryGetProperty("linkinfo", out var linkInfo) ? String(linkInfo, "info_kind") : null;
            links.Add(new LinkState(
                name,
                String(link, "address") ?? "",
                link.TryGetProperty("mtu", out var mtu) ? mtu.GetInt32() : 0,
                String(link, "link_type") ?? "",
                kind,
                addresses));
        }
        return links;
    }

    /// <summary>
    /// The routes through <paramref name="device"/> from <c>ip -j -4|-6 route show</c>, in the order a
    /// guest can add them: routes without a gateway first, because a gateway must be reachable when
    /// its route is added (CNI plugins such as ptp/Calico give "169.254.1.1 dev eth0 scope link" plus
    /// "default via 169.254.1.1"). Left out: routes the kernel makes for an address (protocol kernel,
    /// fe80::/64), and non-unicast entries. A host destination gets its /32 or /128.
    /// </summary>
    public static IReadOnlyList<PodRoute> ParseRoutes(string json, AddressFamily family, string device)
    {
        using var document = Parse(json, "ip -j route show");
        var direct = new List<PodRoute>();
        var viaGateway = new List<PodRoute>();
        foreach (var route in document.RootElement.EnumerateArray())
        {
            if (String(route, "dev") != device || String(route, "protocol") == "kernel")
                continue;
            if (String(route, "type") is { } type && type != "unicast")
                continue;
            var destination = String(route, "dst") ?? throw Malformed("ip route show", "a route without dst");
            if (destination != "default" && !destination.Contains('/'))
                destination += family == AddressFamily.InterNetworkV6 ? "/128" : "/32";
            var parsed = new PodRoute(
                family,
                destination,
                Address(route, "gateway"),
                Address(route, "prefsrc"),
                String(route, "scope") is { } scope and not "global" and not "universe" ? scope : "");
            (parsed.Gateway is null ? direct : viaGateway).Add(parsed);
        }
        return [.. direct, .. viaGateway];
    }

    /// <summary>True when <c>tc -j qdisc show dev X</c> lists an ingress qdisc.</summary>
    public static bool HasIngressQdisc(string json)
    {
        using var document = Parse(json, "tc -j qdisc show");
        return document.RootElement.EnumerateArray().Any(q => String(q, "kind") == "ingress");
    }

    private static JsonDocument Parse(string json, string command)
    {
        try
        {
            var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                document.Dispose();
                throw Malformed(command, "output that is not a JSON array");
            }
            return document;
        }
        catch (JsonException ex)
        {
            throw new StencilException(ErrorKind.Internal, $"`{command}` printed JSON this runtime cannot read: {ex.Message}", ex);
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IPAddress? Address(JsonElement element, string name) =>
        String(element, name) is { } text ? IPAddress.TryParse(text, out var ip) ? ip : throw Malformed("ip route show", $"{name} \"{text}\"") : null;

    private static StencilException Malformed(string command, string what) =>
        StencilException.Internal($"`{command}` printed {what}");
}
