using System.Net.Sockets;

namespace Stencil.Ttrpc.Tests;

/// <summary>A client and a server of <see cref="TestService"/> on the two ends of a socket pair.</summary>
internal sealed class Connected : IAsyncDisposable
{
    private Connected(TestService service, TtrpcServer server, TtrpcClient client, Task serving)
    {
        Service = service;
        Server = server;
        Client = client;
        Serving = serving;
    }

    public TestService Service { get; }
    public TtrpcServer Server { get; }
    public TtrpcClient Client { get; }
    /// <summary>The server's ServeConnectionAsync.</summary>
    public Task Serving { get; }

    public static async Task<Connected> StartAsync()
    {
        var (client, server) = await SocketPair.CreateAsync();
        var service = new TestService();
        var ttrpcServer = service.CreateServer();
        var serving = ttrpcServer.ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), CancellationToken.None);
        return new Connected(service, ttrpcServer, new TtrpcClient(new NetworkStream(client, ownsSocket: true)), serving);
    }

    /// <summary>Ends the server's side of the connection, as if the server process died.</summary>
    public async Task StopServerAsync()
    {
        await Server.DisposeAsync();
        await Serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        Service.Release.Set();
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await Serving.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
