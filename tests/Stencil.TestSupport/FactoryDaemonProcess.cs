namespace Stencil.TestSupport;

/// <summary>
/// `stencil factory serve` (build/bin, NativeAOT) with a test's or benchmark's configuration; its
/// metrics read with `stencil factory metrics`. Dispose stops it with SIGTERM, as systemd does;
/// <see cref="KillAsync"/> kills it.
/// </summary>
public sealed class FactoryDaemonProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _configPath;

    private FactoryDaemonProcess(ChildProcess process, string configPath)
    {
        _process = process;
        _configPath = configPath;
    }

    public static async Task<FactoryDaemonProcess> StartAsync(string configPath, int poolSize, CancellationToken token)
    {
        var daemon = new FactoryDaemonProcess(ChildProcess.Start(ShimBinaries.RequireCli(),
            ["--config", configPath, "factory", "serve", "--pool-size", poolSize.ToString(System.Globalization.CultureInfo.InvariantCulture)]), configPath);
        try
        {
            await daemon.WaitForReadyAsync(poolSize, token);
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>The daemon's Prometheus text, or "" when it does not answer.</summary>
    public async Task<string> MetricsAsync()
    {
        var r = await ChildProcess.RunAsync(ShimBinaries.RequireCli(), ["--config", _configPath, "factory", "metrics"], TimeSpan.FromSeconds(10));
        return r.ExitCode == 0 ? r.Stdout + "\n" : "";
    }

    public async Task WaitForReadyAsync(int count, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (!(await MetricsAsync()).Contains($"stencil_factory_pool_ready {count}\n", StringComparison.Ordinal))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the factory daemon exited: {_process.Stderr}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the factory daemon had no {count} clone(s) ready within 180 s: {_process.Stderr}");
            await Task.Delay(100, token);
        }
    }

    /// <summary>SIGKILL: the daemon gets no chance to clean up (what a crash looks like).</summary>
    public ValueTask KillAsync() => _process.DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _ = Tmds.Linux.LibC.kill(_process.Pid, Tmds.Linux.LibC.SIGTERM);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_process.HasExited && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await _process.DisposeAsync();
    }
}
