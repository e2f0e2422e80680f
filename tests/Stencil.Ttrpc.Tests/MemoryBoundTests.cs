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
}
