using System.Diagnostics;
using System.Runtime.InteropServices;
using Stencil.TestSupport;

namespace Stencil.Bench.Shim;

/// <summary>
/// Everything the shim benchmark runs in: one folder /tmp/stencil-test-bench-XXXX holding the
/// Stencil configuration files (state, sockets and template inside the folder), a private
/// containerd 1.6 with build/bin first on its PATH, and the busybox image imported. Cleaning up
/// removes every container, stops containerd, kills any shim daemon or QEMU whose command line
/// names the folder (containerd does not take its shims down with it), unmounts what is left
/// mounted under it and removes it; it says what it had to kill, since a leftover is a bug.
/// </summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    public const string Namespace = "stencil-bench";
    public const string Image = BusyboxImage.Reference;
    public static readonly TimeSpan CtrTimeout = TimeSpan.FromSeconds(180);
    private const int SigKill = 9;

    private PrivateContainerd? _containerd;
    private bool _cleanedUp;

    private BenchEnvironment(string dir, string shimBinary)
    {
        Dir = dir;
        ShimBinary = shimBinary;
    }

    /// <summary>The folder everything of this run lives in.</summary>
    public string Dir { get; }

    public string ShimBinary { get; }

    public string StateDir => Path.Combine(Dir, "state");

    /// <summary>Shim sockets: short, a socket path must fit in 108 bytes.</summary>
    public string SocketDir => Path.Combine(Dir, "s");

    public string TemplateDir => Path.Combine(Dir, "tpl");

    public PrivateContainerd Containerd => _containerd ?? throw new InvalidOperationException("containerd is not started");

    public static async Task<BenchEnvironment> StartAsync(CancellationToken cancellationToken)
    {
        var shim = ShimBinaries.RequireShim();
        GuestImage.Require();
        var environment = new BenchEnvironment(Directory.CreateTempSubdirectory("stencil-test-bench-").FullName, shim);
        try
        {
            environment._containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
            {
                Environment = new Dictionary<string, string>
                {
                    // containerd finds containerd-shim-stencil-v2 on its PATH; each variant names its
                    // configuration with --runtime-config-path, so STENCIL_CONFIG is left unset.
                    ["PATH"] = ShimBinaries.PathWithFolderOf(shim),
                    ["STENCIL_CONFIG"] = "",
                },
            }, cancellationToken).ConfigureAwait(false);
            await BusyboxImage.BuildAndImportAsync(environment._containerd, Namespace, environment.Dir, CtrTimeout).ConfigureAwait(false);
            return environment;
        }
        catch
        {
            await environment.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The factory daemon's socket in this run (only the pool variant's configuration names it).</summary>
    public string FactorySocket => Path.Combine(StateDir, "factory.sock");

    /// <summary>
    /// Writes DIR/NAME.toml: guest image from build/guest, this run's state, sockets and template folder, plus
    /// <paramref name="factoryKeys"/> under [factory]. Its shims ask the factory daemon only when
    /// <paramref name="useFactoryDaemon"/>; otherwise daemon_socket names a socket nobody serves.
    /// </summary>
    public string WriteConfig(string name, string factoryKeys, bool useFactoryDaemon = false, string? hypervisorKeys = null, string? runtimeKeys = null)
    {
        var path = Path.Combine(Dir, name + ".toml");
        new StencilConfigFile
        {
            UseGuestImage = true,
            HypervisorKeys = hypervisorKeys,
            TemplatePath = TemplateDir,
            FactoryKeys = factoryKeys,
            StateDir = StateDir,
            ShimSocketDir = SocketDir,
            DaemonSocket = useFactoryDaemon ? FactorySocket : Path.Combine(StateDir, "no-factory.sock"),
            RuntimeKeys = runtimeKeys,
        }.WriteTo(path);
        return path;
    }

    public Task<CommandResult> CtrAsync(params string[] args) => Containerd.CtrAsync(Namespace, args, CtrTimeout);

    /// <summary>Runs ctr and returns how long it took (process start to exit, output read to EOF) and when it started.</summary>
    public async Task<(CommandResult Result, TimeSpan Elapsed, DateTime StartedUtc)> TimeCtrAsync(IEnumerable<string> args)
    {
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var result = await Containerd.CtrAsync(Namespace, args, CtrTimeout).ConfigureAwait(false);
        return (result, clock.Elapsed, started);
    }

    /// <summary>`ctr run -d` of an idle busybox (sleep 100000); returns its wall time. The id is recorded in <paramref name="running"/> before the run so a half-started pod is removed too.</summary>
    public async Task<double> StartIdlePodAsync(CtrVariant variant, string id, List<string> running, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        running.Add(id);
        var (result, elapsed, _) = await TimeCtrAsync(["run", "-d", .. variant.RunArguments, Image, id, "sleep", "100000"]).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ctr run -d {id} ({variant.Label}) exited {result.ExitCode}: {result.Stderr}\ncontainerd log (end):\n" +
                string.Join('\n', ContainerdLog().TakeLast(30)));
        return elapsed.TotalSeconds;
    }

    public IReadOnlyList<string> ContainerdLog() => File.Exists(Containerd.LogPath) ? File.ReadAllLines(Containerd.LogPath) : [];

    /// <summary>Kills (SIGKILL) and removes the given containers' tasks, then the containers, all at once.</summary>
    public async Task RemoveContainersAsync(IEnumerable<string> ids)
    {
        var list = ids.ToList();
        await Task.WhenAll(list.Select(id => CtrAsync("task", "rm", "-f", id))).ConfigureAwait(false);
        await Task.WhenAll(list.Select(id => CtrAsync("containers", "rm", id))).ConfigureAwait(false);
    }

    /// <summary>Processes whose command line names this run's folder: shim daemons, QEMU.</summary>
    /// <summary>Shim daemons and QEMUs of this run; not the factory daemon's ready clones (folders of its pool without a hand-over marker).</summary>
    public IReadOnlyList<(int Pid, string[] Args)> ProcessesOfThisRun() =>
        ProcessMemory.All()
            .Where(p => p.Pid != Environment.ProcessId && p.Args.Any(a => a.Contains(Dir + "/", StringComparison.Ordinal))
                && Path.GetFileName(p.Args[0]) is "containerd-shim-stencil-v2" or "qemu-system-x86_64"
                && !IsReadyFactoryClone(p.Args))
            .ToList();

    private bool IsReadyFactoryClone(string[] args)
    {
        var pool = Path.Combine(StateDir, "factory-pool") + "/";
        var pidFile = args.FirstOrDefault(a => a.StartsWith(pool, StringComparison.Ordinal) && a.EndsWith("/qemu.pid", StringComparison.Ordinal));
        return pidFile is not null && !File.Exists(Path.Combine(Path.GetDirectoryName(pidFile)!, "handed-over"));
    }

    /// <summary>Waits until no shim daemon or QEMU of this run is alive (they exit a little after ctr returns); returns those still alive after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<(int Pid, string[] Args)>> WaitForNoProcessesAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var alive = ProcessesOfThisRun();
            if (alive.Count == 0 || DateTime.UtcNow > deadline)
                return alive;
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Stops everything this run started; returns what had to be killed or unmounted by force (empty when the shims cleaned up after themselves).</summary>
    public async Task<IReadOnlyList<string>> CleanUpAsync()
    {
        if (_cleanedUp)
            return [];
        _cleanedUp = true;
        var report = new List<string>();
        if (_containerd is not null)
        {
            try
            {
                var tasks = await CtrAsync("containers", "ls", "-q").ConfigureAwait(false);
                var left = tasks.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (left.Length > 0)
                {
                    report.Add($"containers still there at cleanup (removed): {string.Join(' ', left)}");
                    await RemoveContainersAsync(left).ConfigureAwait(false);
                }
            }
            finally
            {
                await _containerd.DisposeAsync().ConfigureAwait(false);
            }
        }

        var leftovers = ProcessesOfThisRun();
        foreach (var (pid, args) in leftovers)
        {
            report.Add($"killed leftover process {pid}: {string.Join(' ', args.Take(3))} ...");
            _ = Kill(pid, SigKill);
        }
        await WaitForNoProcessesAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        foreach (var mount in await Leftovers.UnmountAllUnderAsync(Dir).ConfigureAwait(false))
        {
            if (mount != TemplateDir)
                report.Add($"unmounted leftover {mount}");
        }
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Dir))
                    Directory.Delete(Dir, recursive: true);
                break;
            }
            catch (IOException ex) when (attempt < 5)
            {
                if (attempt == 4)
                    report.Add($"removing {Dir}: {ex.Message}");
                await Task.Delay(200).ConfigureAwait(false);
            }
        }
        return report;
    }

    public async ValueTask DisposeAsync() => await CleanUpAsync().ConfigureAwait(false);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
