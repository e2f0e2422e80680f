using System.Globalization;

namespace Stencil.Agent.Containers;

/// <summary>
/// A container's numbers from its cgroup v2 folder. The parsers are pure (they take file texts);
/// <see cref="Read"/> reads the files, any of which may be missing when a controller is off.
/// </summary>
internal static class CgroupStats
{
    internal static ContainerUsage Read(IContainerSyscalls syscalls, string cgroupDir)
    {
        string? Text(string file) => syscalls.TryReadText(Path.Combine(cgroupDir, file));
        if (!syscalls.DirectoryExists(cgroupDir))
            throw StencilException.NotFound($"cgroup {cgroupDir} does not exist (the container has stopped)");
        return Parse(Text("cpu.stat"), Text("memory.current"), Text("memory.max"), Text("memory.peak"), Text("memory.stat"),
            Text("memory.events"), Text("pids.current"), Text("pids.max"), Text("io.stat"));
    }

    internal static ContainerUsage Parse(string? cpuStat, string? memoryCurrent, string? memoryMax, string? memoryPeak, string? memoryStat,
        string? memoryEvents, string? pidsCurrent, string? pidsMax, string? ioStat)
    {
        var cpu = KeyValues(cpuStat);
        var mem = KeyValues(memoryStat);
        var events = KeyValues(memoryEvents);
        ulong readBytes = 0, writeBytes = 0, readIos = 0, writeIos = 0;
        // io.stat: one line per device, "MAJ:MIN rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
        foreach (var line in Lines(ioStat))
        {
            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = field.IndexOf('=');
                if (eq <= 0 || !ulong.TryParse(field.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                    continue;
                switch (field[..eq])
                {
                    case "rbytes": readBytes += v; break;
                    case "wbytes": writeBytes += v; break;
                    case "rios": readIos += v; break;
                    case "wios": writeIos += v; break;
                }
            }
        }
        return new ContainerUsage(
            new CpuUsage(
                UsageUsec: Get(cpu, "usage_usec"),
                UserUsec: Get(cpu, "user_usec"),
                SystemUsec: Get(cpu, "system_usec"),
                NrPeriods: Get(cpu, "nr_periods"),
                NrThrottled: Get(cpu, "nr_throttled"),
                ThrottledUsec: Get(cpu, "throttled_usec")),
            new MemoryUsage(
                UsageBytes: Number(memoryCurrent),
                LimitBytes: Number(memoryMax),
                MaxUsageBytes: Number(memoryPeak),
                AnonBytes: Get(mem, "anon"),
                FileBytes: Get(mem, "file"),
                OomKills: Get(events, "oom_kill"),
                PageFaults: Get(mem, "pgfault"),
                MajorPageFaults: Get(mem, "pgmajfault"),
                InactiveFileBytes: Get(mem, "inactive_file")),
            new PidsUsage(Current: Number(pidsCurrent), Limit: Number(pidsMax)),
            new IoUsage(readBytes, writeBytes, readIos, writeIos));
    }

    /// <summary>"name value" lines (cpu.stat, memory.stat, memory.events).</summary>
    internal static Dictionary<string, ulong> KeyValues(string? text)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            var space = line.IndexOf(' ');
            if (space > 0 && ulong.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                result[line[..space]] = v;
        }
        return result;
    }

    /// <summary>A one-number file; "max" (no limit) and a missing file are 0.</summary>
    internal static ulong Number(string? text) =>
        text is not null && ulong.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static ulong Get(Dictionary<string, ulong> values, string key) => values.GetValueOrDefault(key);

    private static string[] Lines(string? text) =>
        text is null ? [] : text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
