using System.Globalization;
using Stencil.TestSupport;

namespace Stencil.Bench.Shim;

/// <summary>
/// One process's memory: resident set (VmRSS in /proc/PID/status) and proportional set
/// (Pss in /proc/PID/smaps_rollup: each shared page divided by the number of processes mapping it,
/// so the PSS of all processes adds up to the memory they really use).
/// </summary>
internal readonly record struct ProcessMemory(long RssKiB, long PssKiB)
{
    public static ProcessMemory Read(int pid) =>
        new(Field($"/proc/{pid}/status", "VmRSS:"), Field($"/proc/{pid}/smaps_rollup", "Pss:"));

    /// <summary>The command name (/proc/PID/comm), e.g. "qemu-system-x86".</summary>
    public static string Name(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    /// <summary>Every live process with its argv (unreadable or vanished ones are left out).</summary>
    public static IReadOnlyList<(int Pid, string[] Args)> All() =>
        Leftovers.Processes(_ => true).Select(p => (p.Pid, p.Args.ToArray())).ToList();

    /// <summary>Children, grandchildren, ... of <paramref name="pid"/> (from the PPid of every process).</summary>
    public static IReadOnlyList<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child))
                continue;
            try
            {
                parents[child] = (int)Field(Path.Combine(dir, "status"), "PPid:");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        var found = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, ppid) in parents)
            {
                if (ppid == parent)
                {
                    found.Add(child);
                    frontier.Enqueue(child);
                }
            }
        }
        return found;
    }

    /// <summary>A zombie has exited; only its parent has yet to reap it.</summary>
    public static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The number of a "Key:   1234 kB" line.</summary>
    private static long Field(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new FormatException($"{file} has no {key} line");
    }
}
