using System.Globalization;

namespace Stencil.Reliability.Load;

/// <summary>
/// Samples the run's shim processes while a scenario runs: the largest peak resident set (VmHWM in
/// /proc/PID/status, the kernel's own high-water mark, so a peak between two samples still counts)
/// and the largest number of open file descriptors (/proc/PID/fd) any one shim had.
/// </summary>
public sealed class ShimSampler : IAsyncDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);

    private readonly LoadHost _host;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ShimSampler(LoadHost host)
    {
        _host = host;
        _loop = Task.Run(LoopAsync);
    }

    public long MaxHwmKiB { get; private set; }

    public int MaxFds { get; private set; }

    /// <summary>How many distinct shim processes were seen.</summary>
    public int ShimsSeen => _seen.Count;

    private readonly HashSet<int> _seen = [];

    public static ShimSampler Start(LoadHost host) => new(host);

    /// <summary>Takes one last sample and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Sample();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Sample();
            try
            {
                await Task.Delay(s_interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Sample()
    {
        foreach (var pid in HostCensus.ShimPids(_host))
        {
            try
            {
                var hwm = StatusKiB(pid, "VmHWM:");
                var fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
                lock (_seen)
                {
                    _seen.Add(pid);
                    MaxHwmKiB = Math.Max(MaxHwmKiB, hwm);
                    MaxFds = Math.Max(MaxFds, fds);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // Exited between the listing and the read.
            }
        }
    }

    private static long StatusKiB(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0; // a zombie has no memory lines
    }
}
