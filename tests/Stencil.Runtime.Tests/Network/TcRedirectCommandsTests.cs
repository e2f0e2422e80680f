using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Network;

/// <summary>The exact command lines of the tc-redirect plumbing (golden strings).</summary>
[Trait("Category", "Unit")]
public sealed class TcRedirectCommandsTests
{
    private static readonly NetworkTools s_tools = new("/usr/bin/nsenter", "/usr/sbin/ip", "/usr/sbin/tc");
    private const string Netns = "/var/run/netns/cni-1234";
    private const string Prefix = "/usr/bin/nsenter --net=/var/run/netns/cni-1234 -- ";

    [Fact]
    public void Queries_are_json_and_run_in_the_pod_namespace()
    {
        Assert.Equal(Prefix + "/usr/sbin/ip -j -d addr show", TcRedirectCommands.ShowLinks(s_tools, Netns).ToString());
        Assert.Equal(Prefix + "/usr/sbin/ip -j -4 route show", TcRedirectCommands.ShowRoutes(s_tools, Netns, ipv6: false).ToString());
        Assert.Equal(Prefix + "/usr/sbin/ip -j -6 route show", TcRedirectCommands.ShowRoutes(s_tools, Netns, ipv6: true).ToString());
        Assert.Equal(Prefix + "/usr/sbin/tc -j qdisc show dev eth0", TcRedirectCommands.ShowQdiscs(s_tools, Netns, "eth0").ToString());
    }

    [Fact]
    public void Plumbing_is_an_ingress_qdisc_and_a_catch_all_mirred_redirect_each_way()
    {
        Assert.Equal(Prefix + "/usr/sbin/ip link set dev tap0_stencil mtu 1450 addrgenmode none up",
            TcRedirectCommands.SetTapUp(s_tools, Netns, "tap0_stencil", 1450).ToString());
        Assert.Equal(Prefix + "/usr/sbin/tc -batch -", TcRedirectCommands.TcBatch(s_tools, Netns).ToString());
        Assert.Equal(
        [
            ("qdisc add dev eth0 ingress", "adding an ingress qdisc to eth0"),
            ("filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0_stencil", "redirecting eth0 to tap0_stencil"),
            ("qdisc add dev tap0_stencil ingress", "adding an ingress qdisc to tap0_stencil"),
            ("filter add dev tap0_stencil parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0", "redirecting tap0_stencil to eth0"),
        ], TcRedirectCommands.JoinSteps("eth0", "tap0_stencil"));
    }

    [Theory]
    [InlineData("RTNETLINK answers: File exists\nWe have an error talking to the kernel\nCommand failed -:1\n", 1)]
    [InlineData("Cannot find device \"tap0_stencil\"\nCommand failed -:3\n", 3)]
    [InlineData("nsenter: cannot open /x: No such file or directory\n", null)]
    [InlineData("Command failed -:\n", null)]
    public void The_failed_line_of_a_tc_batch_is_read_from_its_stderr(string stderr, int? line)
    {
        Assert.Equal(line, TcRedirectCommands.FailedBatchLine(stderr));
    }

    [Fact]
    public void Teardown_deletes_the_qdisc_and_the_tap()
    {
        Assert.Equal(Prefix + "/usr/sbin/tc qdisc del dev eth0 ingress", TcRedirectCommands.DeleteIngressQdisc(s_tools, Netns, "eth0").ToString());
        Assert.Equal(Prefix + "/usr/sbin/ip link del dev tap0_stencil", TcRedirectCommands.DeleteLink(s_tools, Netns, "tap0_stencil").ToString());
    }

    [Fact]
    public void A_namespace_path_with_a_space_is_quoted_in_messages_and_passed_as_one_argument()
    {
        var command = TcRedirectCommands.ShowLinks(s_tools, "/run/my netns/x");
        Assert.Equal("--net=/run/my netns/x", command.Arguments[0]);
        Assert.StartsWith("/usr/bin/nsenter '--net=/run/my netns/x' -- ", command.ToString());
    }
}
