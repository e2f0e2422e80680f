using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Stencil.Runtime.Network;
using Stencil.Runtime.Network.Interop;
using Xunit.Abstractions;

namespace Stencil.Runtime.Tests.Network;

/// <summary>
/// The real plumbing in namespaces made for each test (a pod namespace with eth0 and a peer namespace
/// with the other end of the veth, 10.213.N.0/24): tap, filters, frames both ways through the tap fd,
/// teardown. No frame can leave the two namespaces.
/// </summary>
public sealed class TcRedirectNetworkTests(ITestOutputHelper output)
{
    private const string Tap = TcRedirectNetwork.DefaultTapName;

    [Fact]
    public async Task Attach_joins_eth0_and_a_tap_both_ways_and_detach_removes_everything()
    {
        using var pair = NamespacePair.Create();
        var network = new TcRedirectNetwork();
        var eth0Mac = Link(pair.PodPath, "eth0").GetProperty("address").GetString();
        var peerMac = Link(pair.PeerPath, "peer0").GetProperty("address").GetString()!;

        var clock = Stopwatch.StartNew();
        var attachment = await network.AttachAsync(pair.PodPath);
        output.WriteLine($"attach: {clock.ElapsedMilliseconds} ms");
        try
        {
            // The interface's facts, as the guest NIC and the agent need them.
            var nic = attachment.Interface;
            Assert.Equal("eth0", nic.Name);
            Assert.Equal(eth0Mac, nic.MacAddress);
            Assert.Equal(1500, nic.Mtu);
            Assert.Equal([pair.PodAddress + "/24"], nic.Addresses.Select(a => a.ToString()));
            var route = Assert.Single(nic.Routes);
            Assert.True(route.IsDefault);
            Assert.Equal(IPAddress.Parse(pair.PeerAddress), route.Gateway);
            Assert.Equal(Tap, attachment.TapName);

            // The tap: a single-queue, non-persistent tap without packet info, with vnet headers, up, at the MTU.
            var tap = Link(pair.PodPath, Tap);
            var info = tap.GetProperty("linkinfo").GetProperty("info_data");
            Assert.Equal("tap", info.GetProperty("type").GetString());
            Assert.False(info.GetProperty("pi").GetBoolean());
            Assert.True(info.GetProperty("vnet_hdr").GetBoolean());
            Assert.False(info.GetProperty("multi_queue").GetBoolean());
            Assert.False(info.GetProperty("persist").GetBoolean());
            Assert.Equal(1500, tap.GetProperty("mtu").GetInt32());
            Assert.Contains("UP", tap.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
            Assert.Equal(TapDevice.Flags, (short)(TapDevice.GetFlags(attachment.TapFd) & TapDevice.Flags));

            // One redirect each way.
            Assert.Equal([Tap], RedirectTargets(pair.PodPath, "eth0"));
            Assert.Equal(["eth0"], RedirectTargets(pair.PodPath, Tap));

            // Guest -> network: a frame written to the tap fd comes out of eth0 and arrives on peer0.
            var before = RxPackets(pair.PeerPath, "peer0");
            for (var i = 0; i < 3; i++)
                TapFrames.Write(attachment.TapFd, Frame(destination: peerMac, source: eth0Mac!));
            await WaitUntilAsync(() => RxPackets(pair.PeerPath, "peer0") >= before + 3, "3 frames written to the tap to arrive on peer0");

            // Network -> guest: an ARP request sent from the peer for the pod's address arrives on the tap fd.
            using var arping = Process.Start(new ProcessStartInfo("/usr/bin/nsenter",
                ["--net=" + pair.PeerPath, "--", "/bin/busybox", "arping", "-c", "1", "-w", "2", "-I", "peer0", pair.PodAddress])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var frame = ReadFrameWithEtherType(attachment.TapFd, 0x0806, TimeSpan.FromSeconds(5));
            Assert.True(frame is not null, "no ARP frame from peer0 reached the tap fd within 5 s");
            Assert.Equal(peerMac, Mac(frame.AsSpan(6, 6)));
            Assert.Equal(IPAddress.Parse(pair.PodAddress), new IPAddress(frame.AsSpan(14 + 24, 4))); // ARP target protocol address
            await arping.WaitForExitAsync();

            clock.Restart();
            await network.DetachAsync(attachment);
            output.WriteLine($"detach: {clock.ElapsedMilliseconds} ms");
            Assert.True(attachment.TapFd.IsClosed);
            Assert.False(LinkExists(pair.PodPath, Tap), "the tap is left after detach");
            Assert.Empty(RedirectTargets(pair.PodPath, "eth0"));
            Assert.DoesNotContain("ingress", NamespacePair.InNamespace(pair.PodPath, "/usr/sbin/tc", "qdisc", "show", "dev", "eth0"));
            // The pod's own interface is untouched.
            Assert.Equal(eth0Mac, Link(pair.PodPath, "eth0").GetProperty("address").GetString());
        }
        finally
        {
            attachment.Dispose();
        }
        pair.Dispose();
        Assert.False(File.Exists(pair.PodPath));
        Assert.False(File.Exists(pair.PeerPath));
    }

    [Fact]
    public async Task Detach_removes_a_tap_that_QEMU_still_holds()
    {
        using var pair = NamespacePair.Create();
        var network = new TcRedirectNetwork();
        var attachment = await network.AttachAsync(pair.PodPath);
        // QEMU's copy of the fd (what getfd leaves in QEMU) keeps the non-persistent tap alive.
        using var qemuCopy = Dup(attachment.TapFd);
        await network.DetachAsync(attachment);
        Assert.False(LinkExists(pair.PodPath, Tap), "the tap is left after detach although QEMU's copy is open");
        Assert.Empty(RedirectTargets(pair.PodPath, "eth0"));
    }

    [Fact]
    public async Task Closing_the_last_fd_removes_the_tap_by_itself()
    {
        using var pair = NamespacePair.Create();
        var attachment = await new TcRedirectNetwork().AttachAsync(pair.PodPath);
        attachment.Dispose();
        Assert.False(LinkExists(pair.PodPath, Tap), "a non-persistent tap outlived its only fd");
    }

    [Fact]
    public async Task Detach_after_CNI_deleted_the_namespace_succeeds()
    {
        using var pair = NamespacePair.Create();
        var network = new TcRedirectNetwork();
        var attachment = await network.AttachAsync(pair.PodPath);
        NamespacePair.Ip("netns", "del", pair.Pod);
        await network.DetachAsync(attachment);
        Assert.True(attachment.TapFd.IsClosed);
    }

    [Fact]
    public async Task Attaching_twice_is_refused_and_the_first_attachment_keeps_working()
    {
        using var pair = NamespacePair.Create();
        var network = new TcRedirectNetwork();
        var attachment = await network.AttachAsync(pair.PodPath);
        try
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => network.AttachAsync(pair.PodPath));
            Assert.Equal(ErrorKind.AlreadyExists, ex.Kind);
            Assert.Contains(Tap, ex.Message);
            Assert.Equal([Tap], RedirectTargets(pair.PodPath, "eth0"));
        }
        finally
        {
            await network.DetachAsync(attachment);
        }
    }

    [Fact]
    public async Task A_namespace_without_an_interface_or_a_missing_one_is_NotFound_and_leaves_nothing()
    {
        using var pair = NamespacePair.Create(withInterface: false);
        var network = new TcRedirectNetwork();
        var ex = await Assert.ThrowsAsync<StencilException>(() => network.AttachAsync(pair.PodPath));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Contains("no Ethernet interface", ex.Message);
        Assert.False(LinkExists(pair.PodPath, Tap));

        var missing = await Assert.ThrowsAsync<StencilException>(() => network.AttachAsync("/run/netns/stencil-test-absent"));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.Contains("/run/netns/stencil-test-absent", missing.Message);
    }

    [Fact]
    public async Task A_failing_step_names_the_command_and_iproute2s_reason_and_rolls_back()
    {
        using var pair = NamespacePair.Create();
        // An ingress qdisc already on eth0 makes the plumbing's "qdisc add" fail (Exclusivity flag on).
        NamespacePair.InNamespace(pair.PodPath, "/usr/sbin/tc", "qdisc", "add", "dev", "eth0", "ingress");
        var ex = await Assert.ThrowsAsync<StencilException>(() => new TcRedirectNetwork().AttachAsync(pair.PodPath));
        Assert.Contains("adding an ingress qdisc to eth0", ex.Message);
        Assert.Contains("tc -batch - <<< 'qdisc add dev eth0 ingress'` exited", ex.Message);
        Assert.False(LinkExists(pair.PodPath, Tap), "the tap is left after a failed attach");
        // The qdisc that was there before is not ours: it stays.
        Assert.Contains("ingress", NamespacePair.InNamespace(pair.PodPath, "/usr/sbin/tc", "qdisc", "show", "dev", "eth0"));
    }

    private static JsonElement Link(string netns, string name)
    {
        var json = NamespacePair.InNamespace(netns, "/usr/sbin/ip", "-j", "-d", "link", "show", "dev", name);
        return JsonDocument.Parse(json).RootElement[0].Clone();
    }

    private static bool LinkExists(string netns, string name) =>
        JsonDocument.Parse(NamespacePair.InNamespace(netns, "/usr/sbin/ip", "-j", "link", "show"))
            .RootElement.EnumerateArray().Any(l => l.GetProperty("ifname").GetString() == name);

    private static long RxPackets(string netns, string name)
    {
        var json = NamespacePair.InNamespace(netns, "/usr/sbin/ip", "-j", "-s", "link", "show", "dev", name);
        return JsonDocument.Parse(json).RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();
    }

    /// <summary>The devices the ingress filters of <paramref name="device"/> redirect to.</summary>
    private static List<string> RedirectTargets(string netns, string device)
    {
        var json = NamespacePair.InNamespace(netns, "/usr/sbin/tc", "-j", "filter", "show", "dev", device, "ingress");
        var targets = new List<string>();
        foreach (var filter in JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json).RootElement.EnumerateArray())
        {
            if (!filter.TryGetProperty("options", out var options) || !options.TryGetProperty("actions", out var actions))
                continue;
            foreach (var action in actions.EnumerateArray())
            {
                if (action.GetProperty("kind").GetString() == "mirred" && action.GetProperty("mirred_action").GetString() == "redirect"
                    && action.GetProperty("direction").GetString() == "egress")
                    targets.Add(action.GetProperty("to_dev").GetString()!);
            }
        }
        return targets;
    }

    /// <summary>An Ethernet frame with the local experimental EtherType 0x88B5 and a 46-byte payload.</summary>
    private static byte[] Frame(string destination, string source)
    {
        var frame = new byte[14 + 46];
        ParseMac(destination).CopyTo(frame, 0);
        ParseMac(source).CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        "stencil tap test"u8.CopyTo(frame.AsSpan(14));
        return frame;
    }

    private static byte[]? ReadFrameWithEtherType(SafeFileHandle fd, ushort etherType, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var frame = TapFrames.Read(fd, deadline - DateTime.UtcNow);
            if (frame is null)
                return null;
            if (frame.Length >= 14 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == etherType)
                return frame;
        }
        return null;
    }

    private static byte[] ParseMac(string mac) => mac.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();

    private static string Mac(ReadOnlySpan<byte> bytes) => string.Join(':', bytes.ToArray().Select(b => b.ToString("x2")));

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 5 s for {what}");
            await Task.Delay(20);
        }
    }

    private static SafeFileHandle Dup(SafeFileHandle fd)
    {
        var copy = dup(fd);
        if (copy < 0)
            throw new IOException("dup: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        return new SafeFileHandle(copy, ownsHandle: true);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(SafeFileHandle fd);
}
