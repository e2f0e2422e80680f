using System.Net;
using Stencil.Agent.Client;
using Stencil.Agent.Client.Internal;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class ProtoMappingTests
{
    [Fact]
    public void Storages_map_to_the_oneof()
    {
        var shared = ProtoMapping.ToProto(StorageMount.Shared("c1/rootfs", "rootfs", ["ro"]));
        Assert.Equal("c1/rootfs", shared.SharedPath);
        Assert.Equal("rootfs", shared.MountPoint);
        Assert.Equal(["ro"], shared.Options);
        var pci = ProtoMapping.ToProto(StorageMount.BlockByPci("03/00", "ext4", "volumes/v") with { DeviceTimeout = TimeSpan.FromSeconds(3) });
        Assert.Equal("03/00", pci.Block.PciAddress);
        Assert.Equal(3000U, pci.Block.TimeoutMs);
        Assert.Equal("ext4", pci.Fstype);
        Assert.Equal("vol-1", ProtoMapping.ToProto(StorageMount.BlockBySerial("vol-1", "ext4", "v")).Block.Serial);
    }

    [Fact]
    public void Pod_namespaces_map_with_their_sysctls_in_key_order()
    {
        var config = new SandboxConfig("pod", Hostname: "web",
            PodNamespaces: new PodNamespacesConfig(new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmax"] = "65536" }));

        var r = ProtoMapping.ToProto(config);

        Assert.Equal(["kernel.shmmax=65536", "net.ipv4.ip_forward=1"], r.PodNamespaces.Sysctls.Select(s => $"{s.Key}={s.Value}"));
        Assert.NotNull(ProtoMapping.ToProto(new SandboxConfig("pod", PodNamespaces: new PodNamespacesConfig())).PodNamespaces);
        // Absent: the pause container holds the namespaces, as before.
        Assert.Null(ProtoMapping.ToProto(new SandboxConfig("pod")).PodNamespaces);
    }

    [Fact]
    public void Time_round_trips_to_100ns()
    {
        var t = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234567);
        var (sec, nsec) = ProtoMapping.ToUnix(t);
        Assert.Equal(t.ToUnixTimeSeconds(), sec);
        Assert.Equal(123456700, nsec);
        Assert.Equal(t, ProtoMapping.FromUnixNanos(sec * 1_000_000_000 + nsec));
    }

    [Fact]
    public void Interfaces_round_trip()
    {
        var i = new NetworkInterface("eth0", "52:54:00:12:34:56", 1500, [new InterfaceAddress(IPAddress.Parse("10.0.0.2"), 24)], true);
        var back = ProtoMapping.TryFromProto(ProtoMapping.ToProto(i));
        Assert.NotNull(back);
        Assert.Equal(i.Name, back.Name);
        Assert.Equal(i.Addresses, back.Addresses);
        Assert.Equal(new NetworkRoute("default", "10.0.0.1"), ProtoMapping.FromProto(ProtoMapping.ToProto(new NetworkRoute("default", "10.0.0.1"))));
    }

    [Theory]
    [InlineData("10.0.0.300", 24u)]
    [InlineData("10.0.0.2", 33u)]
    [InlineData("fe80::1", 129u)]
    [InlineData("", 0u)]
    public void An_interface_from_the_guest_with_an_address_that_is_not_one_maps_to_null(string address, uint prefix)
    {
        var p = new Stencil.Protocols.Agent.Interface { Name = "eth0" };
        p.Addresses.Add(new Stencil.Protocols.Agent.IPAddress { Address = address, PrefixLength = prefix });
        Assert.Null(ProtoMapping.TryFromProto(p));
    }

    [Fact]
    public void Guest_text_in_an_interface_is_cut_and_made_printable()
    {
        var back = ProtoMapping.TryFromProto(new Stencil.Protocols.Agent.Interface { Name = "eth0\n[fake log line]" + new string('x', 100), Mtu = uint.MaxValue });
        Assert.NotNull(back);
        Assert.Equal("eth0?[fake log line]" + new string('x', 44) + "...", back.Name);
        Assert.Equal(65535, back.Mtu);
    }
}
