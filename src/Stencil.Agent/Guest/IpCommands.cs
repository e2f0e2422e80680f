using System.Globalization;
using Stencil.Protocols.Agent;

namespace Stencil.Agent.Guest;

/// <summary>
/// The busybox `ip` command lines that apply an interface or a route, and the parser of
/// `ip -o addr show`. Pure; each command is an argv without the program.
/// </summary>
internal static class IpCommands
{
    internal static IReadOnlyList<IReadOnlyList<string>> ForInterface(string device, Interface wanted)
    {
        var commands = new List<IReadOnlyList<string>>();
        var name = device;
        if (wanted.Name.Length > 0 && wanted.Name != device)
        {
            CheckDeviceName(wanted.Name, "interface.name");
            commands.Add(["link", "set", "dev", device, "down"]);
            commands.Add(["link", "set", "dev", device, "name", wanted.Name]);
            name = wanted.Name;
        }
        if (wanted.Mtu > 0)
            commands.Add(["link", "set", "dev", name, "mtu", wanted.Mtu.ToString(CultureInfo.InvariantCulture)]);
        commands.Add(["addr", "flush", "dev", name]);
        for (var i = 0; i < wanted.Addresses.Count; i++)
            commands.Add(["addr", "add", Cidr(wanted.Addresses[i], $"interface.addresses[{i}]"), "dev", name]);
        if (wanted.Up)
            commands.Add(["link", "set", "dev", name, "up"]);
        return commands;
    }

    /// <summary>`ip route replace` for each route, link routes (no gateway) first so gateways are reachable.</summary>
    internal static IReadOnlyList<IReadOnlyList<string>> ForRoutes(IReadOnlyList<Route> routes)
    {
        var ordered = routes.Select((r, i) => (Route: r, Index: i)).OrderBy(x => x.Route.Gateway.Length > 0 ? 1 : 0).ThenBy(x => x.Index);
        var commands = new List<IReadOnlyList<string>>();
        foreach (var (r, i) in ordered)
            commands.Add(["route", "replace", .. RouteSpec(r, $"routes[{i}]")]);
        return commands;
    }

    internal static IReadOnlyList<string> DeleteRoute(Route r) => ["route", "del", .. RouteSpec(r, "route")];

    private static List<string> RouteSpec(Route r, string field)
    {
        var args = new List<string>();
        if (r.Destination is "" or "default")
            args.Add("default");
        else if (r.Destination.Contains('/'))
            args.Add(Cidr(r.Destination, $"{field}.destination"));
        else
            args.Add(Ip(r.Destination, $"{field}.destination"));
        if (r.Gateway.Length > 0)
            args.AddRange(["via", Ip(r.Gateway, $"{field}.gateway")]);
        if (r.Device.Length > 0)
        {
            CheckDeviceName(r.Device, $"{field}.device");
            args.AddRange(["dev", r.Device]);
        }
        if (r.Source.Length > 0)
            args.AddRange(["src", Ip(r.Source, $"{field}.source")]);
        if (r.Scope.Length > 0)
        {
            if (r.Scope is not ("link" or "host" or "global" or "site"))
                throw StencilException.InvalidArgument($"{field}.scope \"{r.Scope}\" is not link, host, site or global");
            args.AddRange(["scope", r.Scope]);
        }
        return args;
    }

    /// <summary>Addresses per device from `ip -o addr show` ("2: eth0    inet 10.0.2.15/24 brd ... scope global eth0").</summary>
    internal static Dictionary<string, List<IPAddress>> ParseAddresses(string output)
    {
        var result = new Dictionary<string, List<IPAddress>>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var t = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (t.Length < 4 || t[2] is not ("inet" or "inet6"))
                continue;
            var device = t[1].TrimEnd(':');
            var at = device.IndexOf('@');
            if (at > 0)
                device = device[..at];
            var slash = t[3].IndexOf('/');
            if (slash <= 0 || !uint.TryParse(t[3].AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix))
                continue;
            if (!result.TryGetValue(device, out var list))
                result[device] = list = [];
            list.Add(new IPAddress { Address = t[3][..slash], PrefixLength = prefix });
        }
        return result;
    }

    private static string Cidr(IPAddress a, string field)
    {
        var ip = Ip(a.Address, $"{field}.address");
        var max = System.Net.IPAddress.Parse(ip).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128u : 32u;
        if (a.PrefixLength > max)
            throw StencilException.InvalidArgument($"{field}.prefix_length {a.PrefixLength} is more than {max}");
        return $"{ip}/{a.PrefixLength}";
    }

    private static string Cidr(string text, string field)
    {
        var slash = text.IndexOf('/');
        if (!uint.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix))
            throw StencilException.InvalidArgument($"{field} \"{text}\" is not address/prefix");
        return Cidr(new IPAddress { Address = text[..slash], PrefixLength = prefix }, field);
    }

    private static string Ip(string text, string field) =>
        System.Net.IPAddress.TryParse(text, out var ip) && !text.Contains('%')
            ? ip.ToString()
            : throw StencilException.InvalidArgument($"{field} \"{text}\" is not an IP address");

    internal static void CheckDeviceName(string name, string field)
    {
        if (name.Length is 0 or > 15 || name.Contains('/') || name.Contains(' ') || name is "." or "..")
            throw StencilException.InvalidArgument($"{field} \"{name}\" is not a network device name");
    }
}
