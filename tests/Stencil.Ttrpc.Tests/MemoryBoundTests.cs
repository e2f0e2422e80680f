using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

[CollectionDefinition(nameof(MemoryBoundTests), DisableParallelization = true)]
public sealed class MemoryBoundCollection;

/// <summary>
/// A peer that claims a huge frame and streams a huge body costs the server no more than its read
/// buffers. Measured with the process-wide allocation counter, so nothing else may run meanwhile.
/// </summary>
[Collection(nameof(MemoryBoundTests))]
[Trait("Category", "Unit")]
public class MemoryBoundTests
{
    [Fact]
    public async Task Skipping_a_64_MiB_body_allocates_far_less_than_the_body()
    {
        const int bodyBytes = 64 << 20;
        var (client, server) = await SocketPair.CreateAsync();
        await using var ttrpcServer = new TestService().CreateServer();
        var serving = ttrpcServer.ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), CancellationToken.None);
        using var peer = new RawPeer(client);
        var header = RawPeer.Frame(1, FrameType.Request, [], claimedLength: 0xFFFF_FFF0);
        var chunk = new byte[1 << 20];
        var echo = RawPeer.Frame(3, FrameType.Request,
            new Request { Service = TestService.Name, Method = "Echo", Payload = new StringValue { Value = "x" }.ToByteString() }.ToByteArray());

        var before = GC.GetTotalAllocatedBytes(precise: true);
        await peer.SendAsync(header);
        for (var sent = 0; sent < bodyBytes; sent += chunk.Length)
            await peer.SendAsync(chunk);
        var during = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(during < 8 << 20, $"the server allocated {during} bytes while skipping {bodyBytes}");
        // The claimed 4 GiB are still being skipped, so this request is part of the body, not a frame.
        await peer.SendAsync(echo);
        peer.Socket.Shutdown(SocketShutdown.Send);
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await peer.ReadFrameAsync());
    }
    [Fact]
    public async Task A_peer_answering_100000_streams_nobody_opened_leaves_a_lenient_client_no_bigger()
    {
        var (client, server) = await SocketPair.CreateAsync();
        await using var ttrpc = new TtrpcClient(new NetworkStream(client, ownsSocket: true));
        using var peer = new RawPeer(server);
        var stray = new Response { Payload = new StringValue { Value = new string('s', 100) }.ToByteString() }.ToByteArray();
        var batch = new List<byte>();
        for (var i = 0; i < 1000; i++)
            batch.AddRange(RawPeer.Frame((uint)(2 * i + 1001), FrameType.Response, stray));
        var bytes = batch.ToArray();

        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 100; i++)
            await peer.SendAsync(bytes);
        // An answered call proves the reader got through all of them.
        var call = ttrpc.CallAsync(TestService.Echo, new StringValue());
        await peer.ReadFrameAsync();
        await peer.SendFrameAsync(1, FrameType.Response, new Response { Payload = new StringValue { Value = "mine" }.ToByteString() });
        Assert.Equal("mine", (await call.WaitAsync(TimeSpan.FromSeconds(30))).Value);
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;

        Assert.True(retained < 4 << 20, $"the client kept {retained} bytes after dropping 100000 stray responses");
        Assert.Equal(0, ttrpc.PendingCount);
    }
}
