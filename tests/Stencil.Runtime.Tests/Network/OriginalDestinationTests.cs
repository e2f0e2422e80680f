using System.Net;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Network;

/// <summary>struct sockaddr_in as SO_ORIGINAL_DST returns it (byte vectors, x86-64 little endian).</summary>
[Trait("Category", "Unit")]
public sealed class OriginalDestinationTests
{
    [Fact]
    public void Sockaddr_in_gives_address_and_port_in_network_order()
    {
        // AF_INET = 2 (host order), port 8080 = 0x1F90 (network order), 127.0.0.1, 8 bytes of padding.
        byte[] bytes = [0x02, 0x00, 0x1F, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        var endpoint = OriginalDestination.Parse(bytes);
        Assert.Equal(IPAddress.Loopback, endpoint.Address);
        Assert.Equal(8080, endpoint.Port);

        endpoint = OriginalDestination.Parse([0x02, 0x00, 0xFF, 0xFF, 10, 88, 232, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(IPAddress.Parse("10.88.232.7"), endpoint.Address);
        Assert.Equal(65535, endpoint.Port);
    }

    [Fact]
    public void Another_family_or_a_short_answer_is_refused()
    {
        var ex = Assert.Throws<StencilException>(() => OriginalDestination.Parse([0x0A, 0x00, 0x1F, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Contains("address family 10", ex.Message);
        ex = Assert.Throws<StencilException>(() => OriginalDestination.Parse([0x02, 0x00, 0x1F, 0x90]));
        Assert.Contains("4 bytes", ex.Message);
    }
}
