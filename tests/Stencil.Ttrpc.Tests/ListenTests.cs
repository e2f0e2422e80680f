using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Stencil.Interop;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

/// <summary>Unix socket listening and connecting, and the peer-credential check.</summary>
[Trait("Category", "Unit")]
public sealed class ListenTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-ttrpc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SocketPath => Path.Combine(_dir, "t.sock");

    private static async Task WaitForFileAsync(string path)
    {
        for (var i = 0; i < 500 && !File.Exists(path); i++)
            await Task.Delay(10);
        Assert.True(File.Exists(path), $"{path} never appeared");
    }

    [Fact]
    public async Task A_client_connects_to_a_listening_server_and_the_socket_file_goes_when_it_stops()
    {
        var service = new TestService();
        await using var server = service.CreateServer();
        using var stop = new CancellationTokenSource();
        var listening = server.ListenAsync(SocketPath, stop.Token);
        await WaitForFileAsync(SocketPath);

        await using (var client = await TtrpcClient.ConnectAsync("unix://" + SocketPath))
            Assert.Equal("over a socket", (await client.CallAsync(TestService.Echo, new StringValue { Value = "over a socket" })).Value);

        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task Stopping_the_listener_cancels_its_open_connections()
    {
        var service = new TestService();
        await using var server = service.CreateServer();
        using var stop = new CancellationTokenSource();
        var listening = server.ListenAsync(SocketPath, stop.Token);
        await WaitForFileAsync(SocketPath);
        await using var client = await TtrpcClient.ConnectAsync(SocketPath);
        var call = client.CallAsync(TestService.WaitForCancel, new Empty());
        await service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
        await service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<StencilException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
    }

    [Fact]
    public async Task A_peer_with_another_uid_is_disconnected_without_an_answer()
    {
        var service = new TestService();
        await using var server = service.CreateServer();
        // SO_PEERCRED reports our own uid; requiring another one puts us in a stranger's place.
        server.RequiredPeerUid = Libc.GetEffectiveUserId() + 1;
        using var stop = new CancellationTokenSource();
        var listening = server.ListenAsync(SocketPath, stop.Token);
        await WaitForFileAsync(SocketPath);

        await using var client = await TtrpcClient.ConnectAsync(SocketPath);
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            client.CallAsync(TestService.Echo, new StringValue { Value = "let me in" }).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.Equal(1, server.RejectedPeers);

        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Peer_credentials_of_a_socket_are_our_pid_and_uid()
    {
        var (client, server) = await SocketPair.CreateAsync();
        using (client)
        using (server)
        {
            var credentials = PeerCredentials.Read(server);
            Assert.Equal(Environment.ProcessId, credentials.Pid);
            Assert.Equal(Libc.GetEffectiveUserId(), credentials.Uid);
        }
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        // What a crashed server leaves behind. .NET unlinks the path of a socket it bound when the socket
        // is disposed, so the file is moved aside over the Dispose and put back.
        var aside = SocketPath + ".aside";
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(SocketPath));
            dead.Listen(1);
            File.Move(SocketPath, aside);
        }
        File.Move(aside, SocketPath);
        Assert.True(File.Exists(SocketPath));

        await using var server = new TestService().CreateServer();
        using var stop = new CancellationTokenSource();
        var listening = server.ListenAsync(SocketPath, stop.Token);
        await using (var client = await TtrpcClient.ConnectAsync(SocketPath))
            Assert.Equal("hi", (await client.CallAsync(TestService.Echo, new StringValue { Value = "hi" })).Value);
        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_socket_someone_serves_is_AlreadyExists()
    {
        await using var first = new TestService().CreateServer();
        using var stop = new CancellationTokenSource();
        var listening = first.ListenAsync(SocketPath, stop.Token);
        await WaitForFileAsync(SocketPath);

        await using var second = new TestService().CreateServer();
        var ex = await Assert.ThrowsAsync<StencilException>(() => second.ListenAsync(SocketPath, CancellationToken.None));
        Assert.Equal(ErrorKind.AlreadyExists, ex.Kind);
        Assert.Equal($"ttrpc socket {SocketPath} is already being served", ex.Message);

        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Disposing_the_server_stops_its_listener()
    {
        var server = new TestService().CreateServer();
        var listening = server.ListenAsync(SocketPath, CancellationToken.None);
        await WaitForFileAsync(SocketPath);
        await server.DisposeAsync();
        await listening.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task A_path_too_long_for_a_unix_socket_is_InvalidArgument()
    {
        var path = "/tmp/" + new string('x', 110);
        var ex = await Assert.ThrowsAsync<StencilException>(() => TtrpcClient.ConnectAsync(path));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"ttrpc socket path {path} is 115 bytes long; unix socket paths must be shorter than 108", ex.Message);
        await using var server = new TtrpcServer();
        Assert.Equal(ErrorKind.InvalidArgument,
            (await Assert.ThrowsAsync<StencilException>(() => server.ListenAsync(path, CancellationToken.None))).Kind);
    }

    [Fact]
    public async Task Connecting_to_nothing_is_Unavailable_naming_the_path()
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() => TtrpcClient.ConnectAsync(SocketPath));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.StartsWith($"cannot connect to ttrpc socket {SocketPath}: ", ex.Message);
    }
}
