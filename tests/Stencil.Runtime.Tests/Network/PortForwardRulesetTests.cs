using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Network;

/// <summary>The nftables ruleset and command lines of the port-forward relay (golden strings).</summary>
[Trait("Category", "Unit")]
public sealed class PortForwardRulesetTests
{
    [Fact]
    public void Ruleset_replaces_the_table_and_redirects_every_loopback_tcp_port_but_the_relays()
    {
        Assert.Equal(
            "table ip stencil\n"
            + "delete table ip stencil\n"
            + "table ip stencil {\n"
            + "  chain output {\n"
            + "    type nat hook output priority -100; policy accept;\n"
            + "    ip daddr 127.0.0.1 tcp dport != 40123 redirect to :40123\n"
            + "  }\n"
            + "}\n",
            PortForwardRuleset.Build(40123));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Ruleset_refuses_a_port_out_of_range(int port)
    {
        var ex = Assert.Throws<StencilException>(() => PortForwardRuleset.Build(port));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Fact]
    public void Commands_run_nft_in_the_pod_namespace()
    {
        Assert.Equal("/usr/bin/nsenter --net=/var/run/netns/cni-1 -- /usr/sbin/nft -f -",
            PortForwardRuleset.Load("/usr/bin/nsenter", "/usr/sbin/nft", "/var/run/netns/cni-1").ToString());
        Assert.Equal("/usr/bin/nsenter --net=/var/run/netns/cni-1 -- /usr/sbin/nft delete table ip stencil",
            PortForwardRuleset.Delete("/usr/bin/nsenter", "/usr/sbin/nft", "/var/run/netns/cni-1").ToString());
    }
}
