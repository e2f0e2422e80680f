using System.Net;
using System.Net.Sockets;
using Stencil.Runtime.Network;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>What the agent is asked to set on the guest NIC, from the pod interface CNI left.</summary>
[Trait("Category", "Unit")]
public sealed class PodNetworkSetupTests
{
    private static readonly PodInterface s_pod = new("eth0", "5e:1a:bd:56:6e:5f", 1450,
        [new Stencil.Runtime.Network.InterfaceAddress(IPAddress.Parse("10.88.232.2"), 24), new Stencil.Runtime.Network.InterfaceAddress(IPAddress.Parse("fd00::2"), 64)],
        [
            new PodRoute(AddressFamily.InterNetwork, "default", IPAddress.Parse("10.88.232.1"), null, ""),
            new PodRoute(AddressFamily.InterNetwork, "10.96.0.0/12", null, IPAddress.Parse("10.88.232.2"), "link"),
        ]);

    [Fact]
    public void The_guest_NIC_is_found_by_the_pod_MAC_and_gets_its_name_MTU_and_addresses_and_comes_up()
    {
        var nic = PodNetworkSetup.GuestInterface(s_pod);
        Assert.Equal("eth0", nic.Name);
        Assert.Equal("5e:1a:bd:56:6e:5f", nic.HardwareAddress);
        Assert.Equal(1450, nic.Mtu);
        Assert.Equal(["10.88.232.2/24", "fd00::2/64"], nic.Addresses.Select(a => a.ToString()));
        Assert.True(nic.Up);
    }

    [Fact]
    public void Routes_go_on_the_guest_NIC_with_gateway_source_and_scope()
    {
        var routes = PodNetworkSetup.GuestRoutes(s_pod);
        Assert.Equal(2, routes.Count);
        Assert.Equal(new Stencil.Agent.Client.NetworkRoute("default", "10.88.232.1", "eth0", null, null), routes[0]);
        Assert.Equal(new Stencil.Agent.Client.NetworkRoute("10.96.0.0/12", null, "eth0", "10.88.232.2", "link"), routes[1]);
    }
}
