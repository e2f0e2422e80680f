using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Stencil.Runtime.Network;
using Stencil.Runtime.Network.Interop;
using Xunit.Abstractions;

namespace Stencil.Runtime.Tests.Network;

/// <summary>
/// The relay in a real namespace made for the test (loopback only), with the guest played by servers
/// in the test's own namespace: a client in the pod namespace dials 127.0.0.1:PORT as containerd does,
/// the nft rule sends it to the relay, SO_ORIGINAL_DST gives PORT, and the stand-in dialer connects to
/// the server for PORT.
/// </summary>
public sealed class PortForwardRelayTests(ITestOutputHelper output)
{
    private const string Nft = "/usr/sbin/nft";
    private const string Nsenter = "/usr/bin/nsenter";

    [Fact]
    public async Task Loopback_dials_in_the_namespace_reach_the_guest_port_with_half_close_and_resets_for_closed_ports()
    {
        if (!File.Exists(Nft))
            throw new InvalidOperationException($"prerequisite missing: {Nft} (run `make deps`: nftables)");
        using var pair = NamespacePair.Create(withInterface: false);
        NamespacePair.Ip("-n", pair.Pod, "link", "set", "lo", "up");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // The "guest": an echo server that answers after its client half-closes, standing in for port 8080.
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen();
        var serverTask = ServeOneAsync(server, cts.Token);
        var dialer = new LoopbackDialer(new Dictionary<int, int> { [8080] = ((IPEndPoint)server.LocalEndPoint!).Port });

        var clock = Stopwatch.StartNew();
        var relay = await PortForwardRelay.StartAsync(pair.PodPath, dialer, Nsenter, Nft, ProcessCommandRunner.Instance, NullLog.Instance, "pod test", cts.Token);
        output.WriteLine($"relay start: {clock.ElapsedMilliseconds} ms (port {relay.Port})");
        try
        {
            var rules = NamespacePair.InNamespace(pair.PodPath, Nft, "list", "ruleset");
            Assert.Contains($"ip daddr 127.0.0.1 tcp dport != {relay.Port} redirect to :{relay.Port}", rules);
            Assert.DoesNotContain("table ip stencil", NamespacePair.Run(Nft, "list", "tables"));

            // A request, a half-close, the answer, end of stream: what containerd's copy loops do.
            clock.Restart();
            using (var client = await ConnectInNamespaceAsync(pair.PodPath, 8080))
            {
                await client.SendAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), SocketFlags.None, cts.Token);
                client.Shutdown(SocketShutdown.Send);
                Assert.Equal("echo:GET / HTTP/1.0\r\n\r\n", await ReadToEndAsync(client, cts.Token));
            }
            output.WriteLine($"one forwarded request: {clock.ElapsedMilliseconds} ms");
            Assert.Equal("GET / HTTP/1.0\r\n\r\n", await serverTask);
            Assert.Equal(8080, dialer.Dialed.Single());

            // Nothing listens on 9999 in the "guest": the dial in the namespace succeeds (the relay accepts),
            // then the connection is reset rather than ended, so containerd reports an error.
            using (var client = await ConnectInNamespaceAsync(pair.PodPath, 9999))
            {
                var ex = await Assert.ThrowsAsync<SocketException>(async () => await ReadToEndAsync(client, cts.Token));
                Assert.Equal(SocketError.ConnectionReset, ex.SocketErrorCode);
            }
            await WaitUntilAsync(() => relay.ActiveConnections == 0, "the relay's connections to end");
        }
        finally
        {
            clock.Restart();
            await relay.DisposeAsync();
            output.WriteLine($"relay stop: {clock.ElapsedMilliseconds} ms");
        }

        // Nothing is left: the rule is gone and the namespace's 127.0.0.1 refuses again.
        Assert.DoesNotContain("stencil", NamespacePair.InNamespace(pair.PodPath, Nft, "list", "ruleset"));
        var refused = await Assert.ThrowsAsync<SocketException>(() => ConnectInNamespaceAsync(pair.PodPath, 8080));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    private static async Task<string> ServeOneAsync(Socket server, CancellationToken cancellationToken)
    {
        using var peer = await server.AcceptAsync(cancellationToken);
        var request = await ReadToEndAsync(peer, cancellationToken);
        await peer.SendAsync(Encoding.ASCII.GetBytes("echo:" + request), SocketFlags.None, cancellationToken);
        peer.Shutdown(SocketShutdown.Send);
        return request;
    }

    private static async Task<string> ReadToEndAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var data = new MemoryStream();
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            data.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(data.ToArray());
    }

    /// <summary>A socket made inside the namespace (on a thread that joins it), connected to 127.0.0.1:port there.</summary>
    private static Task<Socket> ConnectInNamespaceAsync(string netnsPath, int port) =>
        NetworkNamespaceThread.RunAsync(netnsPath, "test-connect-netns", () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after 10 s waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>The "guest": ports mapped to servers on 127.0.0.1 in the test's namespace.</summary>
    private sealed class LoopbackDialer(IReadOnlyDictionary<int, int> ports) : IGuestPortDialer
    {
        public List<int> Dialed { get; } = [];

        public async Task<IGuestConnection> DialAsync(int port, CancellationToken cancellationToken)
        {
            lock (Dialed)
                Dialed.Add(port);
            if (!ports.TryGetValue(port, out var local))
                throw StencilException.Unavailable($"connection refused to 127.0.0.1:{port} in the pod");
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, local), cancellationToken);
            return new SocketConnection(socket);
        }
    }

    private sealed class SocketConnection(Socket socket) : IGuestConnection
    {
        public async Task<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            return buffer.AsMemory(0, n);
        }

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < data.Length;)
                offset += await socket.SendAsync(data[offset..], SocketFlags.None, cancellationToken);
        }

        public Task CloseWriteAsync(CancellationToken cancellationToken)
        {
            socket.Shutdown(SocketShutdown.Send);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
