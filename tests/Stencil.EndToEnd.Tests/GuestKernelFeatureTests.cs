using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// Kernel features containers expect from a host, inside the VM: links (bridge, veth, vlan, macvlan,
/// ipvlan, vxlan, dummy), /dev/net/tun and /dev/fuse, IPv6, nftables, iptables (nft and legacy), tc
/// qdiscs and filters, overlay mounts, loop devices. The guest kernel loads their modules on demand
/// (request_module, busybox modprobe, modules.alias) as a host's does. The tools are the host's own
/// (nft, iptables, tc), bound into a busybox container read-only with their libraries.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class GuestKernelFeatureTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    /// <summary>One line per feature: "NAME=ok" or "NAME=refused: FIRST LINE OF THE ERROR"; then the loaded modules.</summary>
    private const string Probe = """
        step() { n=$1; shift; if o=$("$@" 2>&1); then echo "$n=ok"; else echo "$n=refused: $(echo "$o" | head -n 1)"; fi; }
        H=/host/sbin
        step bridge ip link add br0 type bridge
        step veth ip link add v0 type veth peer name v1
        step dummy ip link add d0 type dummy
        step vlan ip link add link d0 name d0.5 type vlan id 5
        step macvlan ip link add link d0 name m0 type macvlan
        step ipvlan sh -c 'ip link add d1 type dummy && ip link add link d1 name i0 type ipvlan'
        step vxlan ip link add vx0 type vxlan id 42 dstport 4789 dev d0
        step tun sh -c 'exec 3<>/dev/net/tun'
        step fuse sh -c 'exec 3<>/dev/fuse'
        step ipv6 ip -6 addr add fd00::1/64 dev lo
        step nft sh -c "$H/nft add table inet t && $H/nft add chain inet t c '{ type filter hook input priority 0; }' && $H/nft add rule inet t c tcp dport 1 ct state new drop"
        step iptables-nft $H/xtables-nft-multi iptables -t nat -A POSTROUTING -o lo -j MASQUERADE
        step iptables-legacy sh -c "$H/xtables-legacy-multi iptables -A INPUT -m conntrack --ctstate INVALID -j DROP && $H/xtables-legacy-multi ip6tables -A INPUT -m comment --comment x -j ACCEPT"
        step tc sh -c "$H/tc qdisc add dev lo root handle 1: htb && $H/tc filter add dev lo parent 1: u32 match ip dst 192.0.2.1 action drop"
        step overlay sh -c 'mkdir -p /tmp/l /tmp/u /tmp/w /tmp/m && mount -t overlay o -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w /tmp/m'
        step loop losetup -f
        echo "modules=$(cut -d' ' -f1 /proc/modules 2>/dev/null | sort | tr '\n' ' ')"
        """;

    private static readonly string[] s_features =
        ["bridge", "veth", "dummy", "vlan", "macvlan", "ipvlan", "vxlan", "tun", "fuse", "ipv6", "nft", "iptables-nft", "iptables-legacy", "tc", "overlay", "loop"];

    [Fact]
    public async Task A_privileged_container_has_every_feature_and_the_guest_loads_the_modules_on_demand()
    {
        var probe = await RunProbeAsync(R, privileged: true, "e2e-kfeat-priv");

        Assert.All(s_features, f => Assert.True(probe.GetValueOrDefault(f) == "ok", $"{f}: {probe.GetValueOrDefault(f)}"));
        // None of these is loaded at boot: each came when the container first asked.
        var loaded = probe["modules"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(["bridge", "veth", "8021q", "dummy", "macvlan", "ipvlan", "vxlan", "tun", "fuse", "nf_tables", "nf_conntrack",
            "iptable_filter", "xt_conntrack", "ip6table_filter", "sch_htb", "cls_u32", "loop"], m => Assert.Contains(m, loaded));
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task An_unprivileged_container_is_refused_each_feature_as_with_runc()
    {
        var runc = await RunProbeAsync("io.containerd.runc.v2", privileged: false, "e2e-kfeat-runc");
        var stencil = await RunProbeAsync(R, privileged: false, "e2e-kfeat-user");

        // The same answer, word for word, for every feature (mostly EPERM: no CAP_NET_ADMIN or CAP_SYS_ADMIN).
        Assert.All(s_features, f => Assert.Equal($"{f}={runc.GetValueOrDefault(f)}", $"{f}={stencil.GetValueOrDefault(f)}"));
        Assert.StartsWith("refused: ", stencil["bridge"]);
        Assert.StartsWith("refused: ", stencil["tun"]);
        Assert.StartsWith("refused: ", stencil["nft"]);
        Assert.StartsWith("refused: ", stencil["overlay"]);
        // Nothing a refused request could have made the guest load.
        var loaded = stencil["modules"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain("bridge", loaded);
        Assert.DoesNotContain("nf_tables", loaded);
        await Eventually.NothingLeftAsync(s);
    }

    private async Task<Dictionary<string, string>> RunProbeAsync(string runtime, bool privileged, string id)
    {
        foreach (var tool in new[] { "nft", "xtables-nft-multi", "xtables-legacy-multi", "tc" })
            Assert.True(File.Exists($"/usr/sbin/{tool}"), $"/usr/sbin/{tool} is missing on the host (scripts/deps.sh installs nftables, iptables, iproute2)");
        string[] args =
        [
            "run", "--rm", "--runtime", runtime, .. privileged ? ["--privileged"] : Array.Empty<string>(),
            "--mount", "type=bind,src=/usr/sbin,dst=/host/sbin,options=rbind:ro",
            "--mount", "type=bind,src=/usr/lib,dst=/usr/lib,options=rbind:ro",
            "--mount", "type=bind,src=/usr/lib,dst=/lib,options=rbind:ro",
            "--mount", "type=bind,src=/usr/lib64,dst=/lib64,options=rbind:ro",
            I, id, "sh", "-c", Probe,
        ];
        var r = await s.Ctr(args);
        Assert.True(r.ExitCode == 0, $"ctr run ({runtime}): {r.Stderr}\n{s.Containerd.ReadLog()}");
        return r.Stdout.Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
    }
}
