using Stencil.Agent.Logging;

namespace Stencil.Agent.Guest;

/// <summary>
/// Brings hot-added vCPUs and memory blocks online (the kernel may leave them offline). The sysfs
/// root is a parameter for tests.
/// </summary>
internal sealed class CpuMemOnliner(string sysRoot = "/sys")
{
    internal sealed record Result(int CpusOnline, int CpusOnlined, int MemoryBlocksOnlined);

    internal async Task<Result> OnlineAsync(int wantCpus, bool cpuOnly, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cpusOnlined = 0;
        var deadline = DateTime.UtcNow + timeout;
        var delay = 10;
        while (true)
        {
            cpusOnlined += OnlineCpus();
            var online = CpusOnline();
            if (online >= wantCpus)
                break;
            if (DateTime.UtcNow >= deadline)
                throw new StencilException(ErrorKind.DeadlineExceeded, $"{online} CPUs online after {timeout.TotalSeconds:F1} s, wanted {wantCpus}");
            // A vCPU hot-added through QMP shows up in sysfs a moment later.
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 200);
        }
        var blocks = cpuOnly ? 0 : OnlineMemory();
        if (cpusOnlined + blocks > 0)
            AgentLog.Debug($"onlined {cpusOnlined} CPUs and {blocks} memory blocks");
        return new Result(CpusOnline(), cpusOnlined, blocks);
    }

    internal int CpusOnline()
    {
        var file = Path.Combine(sysRoot, "devices/system/cpu/online");
        return File.Exists(file) ? CpuSet.Parse(File.ReadAllText(file)).Count : Environment.ProcessorCount;
    }

    private int OnlineCpus()
    {
        var count = 0;
        var dir = Path.Combine(sysRoot, "devices/system/cpu");
        if (!Directory.Exists(dir))
            return 0;
        foreach (var cpu in Directory.EnumerateDirectories(dir, "cpu*"))
        {
            var online = Path.Combine(cpu, "online");
            if (!Path.GetFileName(cpu).AsSpan(3).ContainsAnyExceptInRange('0', '9') && File.Exists(online) && File.ReadAllText(online).Trim() == "0")
            {
                File.WriteAllText(online, "1");
                count++;
            }
        }
        return count;
    }

    private int OnlineMemory()
    {
        var count = 0;
        var dir = Path.Combine(sysRoot, "devices/system/memory");
        if (!Directory.Exists(dir))
            return 0;
        foreach (var block in Directory.EnumerateDirectories(dir, "memory*"))
        {
            var state = Path.Combine(block, "state");
            if (File.Exists(state) && File.ReadAllText(state).Trim() == "offline")
            {
                try
                {
                    File.WriteAllText(state, "online");
                    count++;
                }
                catch (IOException ex)
                {
                    AgentLog.Warn($"cannot online {block}: {ex.Message}");
                }
            }
        }
        return count;
    }
}
