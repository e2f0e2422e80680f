using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class RootPortAllocatorTests
{
    [Fact]
    public void Lowest_free_first_and_released_ports_are_reused()
    {
        var ports = new RootPortAllocator(3);
        Assert.Equal("rp0", ports.Allocate("vm"));
        Assert.Equal("rp1", ports.Allocate("vm"));
        Assert.Equal("rp2", ports.Allocate("vm"));
        var ex = Assert.Throws<StencilException>(() => ports.Allocate("vm"));
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.Equal("vm vm has no free pcie-root-port: all 3 hold a device", ex.Message);
        ports.Release("rp1");
        Assert.Equal(["rp1"], ports.Free);
        Assert.Equal("rp1", ports.Allocate("vm"));
    }

    [Fact]
    public void None_configured_says_so()
    {
        var ex = Assert.Throws<StencilException>(() => new RootPortAllocator(0).Allocate("vm"));
        Assert.Contains("hotplug_root_ports = 0", ex.Message);
    }

    [Fact]
    public void Releasing_a_free_or_unknown_port_is_a_bug()
    {
        var ports = new RootPortAllocator(2);
        Assert.Throws<InvalidOperationException>(() => ports.Release("rp0"));
        Assert.Throws<ArgumentException>(() => ports.Release("rp2"));
        Assert.Throws<ArgumentException>(() => ports.Release("x1"));
    }
}
