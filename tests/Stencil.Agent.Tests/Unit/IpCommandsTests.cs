using Stencil.Agent.Guest;
using Stencil.Protocols.Agent;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class IpCommandsTests
{
    private static string Lines(IReadOnlyList<IReadOnlyList<string>> commands) => string.Join("\n", commands.Select(c => string.Join(' ', c)));

    [Fact]
    public void Interface_by_mac_renamed_with_addresses()
    {
        var wanted = new Interface { Name = "eth1", HwAddr = "52:54:00:12:34:56", Mtu = 1450, Up = true };
        wanted.Addresses.Add(new IPAddress { Address = "10.0.0.2", PrefixLength = 24 });
        wanted.Addresses.Add(new IPAddress { Address = "fd00::2", PrefixLength = 64 });
        Assert.Equal("""
            link set dev eth0 down
            link set dev eth0 name eth1
            link set dev eth1 mtu 1450
            addr flush dev eth1
            addr add 10.0.0.2/24 dev eth1
            addr add fd00::2/64 dev eth1
            link set dev eth1 up
            """.ReplaceLineEndings("\n"), Lines(IpCommands.ForInterface("eth0", wanted)));
    }

    [Fact]
    public void Bad_address_is_named()
    {
        var wanted = new Interface { Name = "eth0" };
        wanted.Addresses.Add(new IPAddress { Address = "10.0.0.300", PrefixLength = 24 });
        var ex = Assert.Throws<StencilException>(() => IpCommands.ForInterface("eth0", wanted));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("interface.addresses[0].address \"10.0.0.300\"", ex.Message);
        wanted.Addresses[0] = new IPAddress { Address = "10.0.0.3", PrefixLength = 33 };
        Assert.Contains("prefix_length 33", Assert.Throws<StencilException>(() => IpCommands.ForInterface("eth0", wanted)).Message);
    }

    [Fact]
    public void Routes_link_first_then_gateways()
    {
        var routes = new[]
        {
            new Route { Destination = "default", Gateway = "10.0.0.1", Device = "eth0" },
            new Route { Destination = "10.0.0.0/24", Device = "eth0", Scope = "link", Source = "10.0.0.2" },
        };
        Assert.Equal("""
            route replace 10.0.0.0/24 dev eth0 src 10.0.0.2 scope link
            route replace default via 10.0.0.1 dev eth0
            """.ReplaceLineEndings("\n"), Lines(IpCommands.ForRoutes(routes)));
        Assert.Equal("route del default via 10.0.0.1 dev eth0", string.Join(' ', IpCommands.DeleteRoute(routes[0])));
    }

    [Fact]
    public void Bad_route_is_named()
    {
        var ex = Assert.Throws<StencilException>(() => IpCommands.ForRoutes([new Route { Destination = "default", Gateway = "x" }]));
        Assert.Contains("routes[0].gateway \"x\"", ex.Message);
        ex = Assert.Throws<StencilException>(() => IpCommands.ForRoutes([new Route { Destination = "default", Device = "a b" }]));
        Assert.Contains("routes[0].device", ex.Message);
    }

    [Fact]
    public void Parses_ip_o_addr()
    {
        var output = """
            1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
            2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
            2: eth0    inet6 fe80::5054:ff:fe12:3456/64 scope link \       valid_lft forever preferred_lft forever
            3: veth0@if4    inet 192.168.1.2/30 scope global veth0
            """;
        var a = IpCommands.ParseAddresses(output);
        Assert.Equal("127.0.0.1", a["lo"][0].Address);
        Assert.Equal(8U, a["lo"][0].PrefixLength);
        Assert.Equal(2, a["eth0"].Count);
        Assert.Equal("fe80::5054:ff:fe12:3456", a["eth0"][1].Address);
        Assert.Equal(30U, a["veth0"][0].PrefixLength);
    }
}
