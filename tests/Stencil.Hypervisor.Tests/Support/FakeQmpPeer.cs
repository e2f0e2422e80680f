using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Stencil.Hypervisor.Tests.Support;

/// <summary>
/// A scripted QMP server on a real unix socket: the test decides what QEMU "says" and when, and
/// reads exactly what the client sent.
/// </summary>
public sealed class FakeQmpPeer : IAsyncDisposable
{
    public const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}""";

    private readonly Socket _listener;
    private readonly string _directory;
    private Socket? _connection;
    private readonly List<byte> _pending = [];

    public FakeQmpPeer()
    {
        _directory = Directory.CreateTempSubdirectory("stencil-test-qmp-").FullName;
        Path = System.IO.Path.Combine(_directory, "qmp.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(1);
    }

    public string Path { get; }

    public async Task AcceptAsync() => _connection = await _listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));

    public Task SendAsync(string json) => SendRawAsync(json + "\r\n");

    public async Task SendRawAsync(string text) =>
        await Connection.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None);

    /// <summary>The next command line the client sent, parsed.</summary>
    public async Task<JsonElement> ReadCommandAsync(TimeSpan? timeout = null)
    {
        var line = await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(10))
            ?? throw new InvalidOperationException("client closed the connection");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>True if the client sent nothing within <paramref name="window"/>.</summary>
    public async Task<bool> IsQuietForAsync(TimeSpan window)
    {
        if (_pending.Count > 0)
            return false;
        var buffer = new byte[1];
        using var cts = new CancellationTokenSource(window);
        try
        {
            var read = await Connection.ReceiveAsync(buffer, SocketFlags.Peek, cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Reads a command and answers {"return": ...} with its id.</summary>
    public async Task<JsonElement> ReplyAsync(string returnJson = "{}")
    {
        var command = await ReadCommandAsync();
        await SendAsync($$"""{"return": {{returnJson}}, "id": {{command.GetProperty("id").GetRawText()}}}""");
        return command;
    }

    /// <summary>Accepts, greets, and answers qmp_capabilities: what QEMU does for a fresh client.</summary>
    public async Task HandshakeAsync()
    {
        await AcceptAsync();
        await SendAsync(Greeting);
        var command = await ReplyAsync();
        if (command.GetProperty("execute").GetString() != "qmp_capabilities")
            throw new InvalidOperationException("expected qmp_capabilities first, got " + command.GetRawText());
    }

    public void Disconnect()
    {
        _connection?.Shutdown(SocketShutdown.Both);
        _connection?.Dispose();
        _connection = null;
    }

    private Socket Connection => _connection ?? throw new InvalidOperationException("no client connected");

    private async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        while (true)
        {
            var newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, newline).ToArray());
                _pending.RemoveRange(0, newline + 1);
                return line;
            }
            var read = await Connection.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (read == 0)
                return null;
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
