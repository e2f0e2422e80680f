using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Shim.Serve;
using Stencil.TestSupport;
using Stencil.Ttrpc;

namespace Stencil.Shim.Tests.EndToEnd;

/// <summary>
/// The published shim binary driven as containerd drives it: bundles with config.json and a `log`
/// FIFO, TTRPC_ADDRESS pointing at a fake Events server, the runtime options on stdin, and
/// the test host's shim (tests/Stencil.Shim.TestHost: the product's ShimProgram with a simulated pod, no VM). Its configuration keeps
/// sockets and state inside the test's own folder. Disposing kills any daemon still alive.
/// </summary>
internal sealed class ShimTestBed : IAsyncDisposable
{
    public const string Namespace = "default";

    private readonly TempDir _dir = new();
    private readonly List<LogFifo> _logs = [];
    private readonly HashSet<int> _daemons = [];

    private ShimTestBed()
    {
        Binary = ShimBinaries.RequireTestHostShim();
        ConfigPath = new StencilConfigFile { StateDir = StateDir, ShimSocketDir = SocketDir }.WriteTo(_dir.Combine("stencil.toml"));
        Events = new FakeEventsServer(_dir.Combine("ttrpc.sock"));
    }

    public string Binary { get; }

    public string Root => _dir.Path;

    public string ConfigPath { get; }

    public string StateDir => _dir.Combine("state");

    public string SocketDir => _dir.Combine("s");

    /// <summary>What containerd's -address would be (it only names the shim socket; nothing listens).</summary>
    public string ContainerdAddress => _dir.Combine("containerd.sock");

    public FakeEventsServer Events { get; }

    public static ShimTestBed Create() => new();

    /// <summary>A bundle as containerd makes it: config.json (with CRI annotations when given) and a `log` FIFO with a reader.</summary>
    public (string Path, LogFifo Log) Bundle(string id, string[] args, string? sandboxId = null, bool sandbox = true,
        Dictionary<string, string>? annotations = null)
    {
        var bundle = _dir.Combine("bundles", id);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        annotations ??= [];
        if (sandboxId is not null)
        {
            annotations["io.kubernetes.cri.container-type"] = sandbox ? "sandbox" : "container";
            annotations["io.kubernetes.cri.sandbox-id"] = sandboxId;
        }
        var spec = new Dictionary<string, object>
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new Dictionary<string, object> { ["args"] = args, ["cwd"] = "/" },
            ["root"] = new Dictionary<string, object> { ["path"] = "rootfs" },
            ["annotations"] = annotations,
        };
        File.WriteAllText(Path.Combine(bundle, "config.json"), JsonSerializer.Serialize(spec));
        var log = LogFifo.Create(Path.Combine(bundle, "log"));
        _logs.Add(log);
        return (bundle, log);
    }

    /// <summary>The runtime options CRI would write on stdin, naming this bed's configuration file.</summary>
    public byte[] RuntimeOptions(string? configPath = null) => new Any
    {
        TypeUrl = "runtimeoptions.v1.Options",
        Value = new Protocols.RuntimeOptions.Options { ConfigPath = configPath ?? ConfigPath }.ToByteString(),
    }.ToByteArray();

    public Task<ShimRunResult> StartAsync(string id, string bundle, byte[]? stdin = null, params string[] extraFlags) =>
        RunAsync(bundle, stdin ?? RuntimeOptions(), [.. Common(id), .. extraFlags, "start"]);

    public Task<ShimRunResult> DeleteAsync(string id, string bundle) =>
        RunAsync(Root, [], [.. Common(id), "-bundle", bundle, "delete"]);

    private string[] Common(string id) =>
        ["-namespace", Namespace, "-address", ContainerdAddress, "-publish-binary", "/usr/bin/containerd", "-id", id];

    /// <summary>Runs the binary like containerd's exec.Cmd: stdin bytes, stdout and stderr read to EOF.</summary>
    public async Task<ShimRunResult> RunAsync(string workingDirectory, byte[] stdin, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Binary)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["TTRPC_ADDRESS"] = Events.SocketPath;
        info.Environment.Remove("STENCIL_CONFIG");

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        // Like containerd: wait for EOF on both streams, which a daemon holding them would prevent.
        await Task.WhenAll(copyOut, readErr).WaitAsync(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        clock.Stop();
        return new ShimRunResult(process.ExitCode, stdout.ToArray(), await readErr, clock.Elapsed);
    }

    public async Task<TtrpcClient> ConnectAsync(string address) => await TtrpcClient.ConnectAsync(address);

    public static Task<TResponse> CallAsync<TRequest, TResponse>(TtrpcClient client, string method, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        client.CallAsync(new TtrpcMethod<TRequest, TResponse>(TaskService.ServiceName, method), request,
            new TtrpcCallOptions { Timeout = TimeSpan.FromSeconds(10) });

    /// <summary>Remembers a daemon so that disposing the bed kills it if the test did not end it.</summary>
    public void Track(int pid) => _daemons.Add(pid);

    /// <summary>Alive and not a zombie: an exited daemon waits for init (its parent after `start` exited) to reap it.</summary>
    public static bool IsRunning(int pid) => Leftovers.IsRunning(pid);

    public static async Task WaitForExitAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"shim daemon {pid} still runs after {timeout}");
            await Task.Delay(20);
        }
    }

    /// <summary>Daemons of this bed still running: processes whose command line names its socket folder.</summary>
    public IReadOnlyList<int> RunningDaemons() =>
        Leftovers.ProcessesMentioning(SocketDir + "/").Select(p => p.Pid).Where(IsRunning).ToList();

    public async ValueTask DisposeAsync()
    {
        foreach (var pid in _daemons.Concat(RunningDaemons()).Distinct())
        {
            if (!IsRunning(pid))
                continue;
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
        await Events.DisposeAsync();
        foreach (var log in _logs)
            log.Dispose();
        _dir.Dispose();
    }
}
