using System.Net;
using System.Net.Sockets;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Network;

/// <summary>iproute2 6.1's -j output, captured in a namespace set up like CNI's, read back.</summary>
[Trait("Category", "Unit")]
public sealed class IpJsonTests
{
    private const string AddrShow = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
         {"ifindex":3,"link_netnsid":0,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"ee:b6:d9:23:c0:4e","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"num_tx_queues":2,"num_rx_queues":2,"addr_info":[{"family":"inet","local":"10.213.7.2","prefixlen":24,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd00:213::2","prefixlen":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::ecb6:d9ff:fe23:c04e","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]},
         {"ifindex":4,"ifname":"tap0_stencil","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1450,"qdisc":"pfifo_fast","operstate":"DOWN","group":"default","txqlen":1000,"link_type":"ether","address":"4e:2d:b3:b0:8b:0a","broadcast":"ff:ff:ff:ff:ff:ff","linkinfo":{"info_kind":"tun","info_data":{"type":"tap","pi":false,"vnet_hdr":true,"multi_queue":false,"persist":false}},"addr_info":[]}]
        """;

    private const string RoutesV4 = """
        [{"dst":"default","gateway":"10.213.7.1","dev":"eth0","flags":[]},{"dst":"10.213.7.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.213.7.2","flags":[]},{"dst":"10.213.8.0/24","dev":"eth0","scope":"link","flags":[]},{"dst":"10.213.9.0/24","gateway":"10.213.7.254","dev":"eth0","prefsrc":"10.213.7.2","flags":[]},{"dst":"169.254.1.1","dev":"eth0","scope":"link","flags":[]},{"dst":"10.1.0.0/16","gateway":"10.213.7.9","dev":"eth1","flags":[]},{"type":"broadcast","dst":"10.213.7.255","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.213.7.2","flags":[]}]
        """;

    private const string RoutesV6 = """
        [{"dst":"fd00:213::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"default","gateway":"fd00:213::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]
        """;

    [Fact]
    public void Links_carry_name_mac_mtu_kind_and_only_global_addresses()
    {
        var links = IpJson.ParseLinks(AddrShow);
        Assert.Equal(["lo", "eth0", "tap0_stencil"], links.Select(l => l.Name));
        var eth0 = links[1];
        Assert.Equal("ee:b6:d9:23:c0:4e", eth0.MacAddress);
        Assert.Equal(1450, eth0.Mtu);
        Assert.Equal("ether", eth0.LinkType);
        Assert.Equal("veth", eth0.Kind);
        Assert.Equal(["10.213.7.2/24", "fd00:213::2/64"], eth0.Addresses.Select(a => a.ToString()));
        Assert.True(eth0.Addresses[1].IsIPv6);
        Assert.Empty(links[0].Addresses); // loopback's are host scope
        Assert.Equal("tun", links[2].Kind);
        Assert.Null(links[0].Kind);
    }

    [Fact]
    public void Routes_of_the_device_without_kernel_ones_direct_routes_first()
    {
        var routes = IpJson.ParseRoutes(RoutesV4, AddressFamily.InterNetwork, "eth0");
        Assert.Equal(
            ["10.213.8.0/24 scope link", "169.254.1.1/32 scope link", "default via 10.213.7.1", "10.213.9.0/24 via 10.213.7.254 src 10.213.7.2"],
            routes.Select(r => r.ToString()));
        Assert.True(routes[2].IsDefault);
        Assert.Equal(IPAddress.Parse("10.213.7.1"), routes[2].Gateway);
        Assert.All(routes, r => Assert.Equal(AddressFamily.InterNetwork, r.Family));
    }

    [Fact]
    public void IPv6_routes_keep_the_default_and_drop_the_kernel_prefixes()
    {
        var route = Assert.Single(IpJson.ParseRoutes(RoutesV6, AddressFamily.InterNetworkV6, "eth0"));
        Assert.Equal(new PodRoute(AddressFamily.InterNetworkV6, "default", IPAddress.Parse("fd00:213::1"), null, ""), route);
    }

    [Fact]
    public void Empty_output_is_an_empty_list_and_garbage_is_a_clear_error()
    {
        Assert.Empty(IpJson.ParseLinks(""));
        Assert.Empty(IpJson.ParseRoutes("[]", AddressFamily.InterNetwork, "eth0"));
        var ex = Assert.Throws<StencilException>(() => IpJson.ParseLinks("Object \"addr\" is unknown"));
        Assert.Contains("ip -j -d addr show", ex.Message);
        ex = Assert.Throws<StencilException>(() => IpJson.ParseRoutes("""[{"dst":"default","gateway":"bogus","dev":"eth0"}]""", AddressFamily.InterNetwork, "eth0"));
        Assert.Contains("gateway \"bogus\"", ex.Message);
    }

    [Fact]
    public void Ingress_qdisc_is_recognized()
    {
        Assert.True(IpJson.HasIngressQdisc("""[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}},{"kind":"ingress","handle":"ffff:","parent":"ffff:fff1","options":{}}]"""));
        Assert.False(IpJson.HasIngressQdisc("""[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]"""));
    }

    [Fact]
    public void The_pod_interface_is_eth0_or_the_only_ethernet_device()
    {
        var links = IpJson.ParseLinks(AddrShow);
        Assert.Equal("eth0", TcRedirectNetwork.ChooseInterface(links, "tap0_stencil", "/n").Name);

        var net1 = links[1] with { Name = "net1" };
        Assert.Equal("net1", TcRedirectNetwork.ChooseInterface([links[0], net1, links[2]], "tap0_stencil", "/n").Name);

        var two = Assert.Throws<StencilException>(() => TcRedirectNetwork.ChooseInterface([net1, net1 with { Name = "net2" }], "tap0_stencil", "/n"));
        Assert.Equal(ErrorKind.FailedPrecondition, two.Kind);
        Assert.Contains("net1, net2", two.Message);

        var none = Assert.Throws<StencilException>(() => TcRedirectNetwork.ChooseInterface([links[0]], "tap0_stencil", "/n"));
        Assert.Equal(ErrorKind.NotFound, none.Kind);
        Assert.Contains("lo (loopback)", none.Message);
    }
}
