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
        var back = ProtoMapping.FromProto(ProtoMapping.ToProto(i));
        Assert.Equal(i.Name, back.Name);
        Assert.Equal(i.Addresses, back.Addresses);
        Assert.Equal(new NetworkRoute("default", "10.0.0.1"), ProtoMapping.FromProto(ProtoMapping.ToProto(new NetworkRoute("default", "10.0.0.1"))));
    }
}
