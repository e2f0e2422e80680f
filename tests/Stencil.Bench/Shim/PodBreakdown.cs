using System.Globalization;

namespace Stencil.Bench.Shim;

/// <summary>
/// Where one idle pod's memory goes, in KiB of PSS (each shared page divided among the processes mapping it),
/// read from /proc/PID/smaps of its shim daemon and every process below it:
/// the shim's private memory (its GC heap, stacks and NativeAOT's rehydrated data) and its share of the binary;
/// QEMU's TCG code buffer (the anonymous executable mapping: translated guest code), its own heap (other
/// anonymous memory: malloc, device state, ROMs), its share of its binary and libraries; the guest's RAM split
/// into its share of pages shared with others (the template's memory file; with KSM, pages merged with other
/// clones) and pages this clone wrote and holds alone (Private_Dirty of the template mapping: copied on write);
/// and anything else below the shim (the namespace holder).
/// </summary>
internal sealed record PodBreakdown(
    string Id,
    long ShimPrivate,
    long ShimShared,
    long TcgCode,
    long QemuHeap,
    long QemuFiles,
    long TemplateShared,
    long GuestWritten,
    long Other)
{
    public long Pod => ShimPrivate + ShimShared + TcgCode + QemuHeap + QemuFiles + TemplateShared + GuestWritten + Other;

    public long Shim => ShimPrivate + ShimShared;

    public long Qemu => TcgCode + QemuHeap + QemuFiles + TemplateShared + GuestWritten;

    /// <summary>The pod whose shim daemon serves <paramref name="id"/>; the template's memory file lies under <paramref name="templateDir"/>.</summary>
    public static PodBreakdown Read(string id, string socketDir, string templateDir)
    {
        var shim = PodMemory.FindDaemon(id, socketDir);
        var shimMaps = Smaps.Read(shim);
        long tcg = 0, heap = 0, files = 0, shared = 0, written = 0, other = 0;
        foreach (var pid in ProcessMemory.Descendants(shim))
        {
            var maps = Smaps.Read(pid);
            if (!ProcessMemory.Name(pid).StartsWith("qemu-system", StringComparison.Ordinal))
            {
                other += maps.Sum(m => m.Pss);
                continue;
            }
            foreach (var m in maps)
            {
                if (m.Path.StartsWith(templateDir + "/", StringComparison.Ordinal))
                {
                    written += m.PrivateDirty;
                    shared += m.Pss - m.PrivateDirty;
                }
                else if (m.IsAnonymous && m.Permissions == "rwxp")
                {
                    tcg += m.Pss;
                }
                else if (m.IsAnonymous)
                {
                    heap += m.Pss;
                }
                else
                {
                    files += m.Pss;
                }
            }
        }
        return new PodBreakdown(id,
            shimMaps.Where(m => m.IsAnonymous).Sum(m => m.Pss),
            shimMaps.Where(m => !m.IsAnonymous).Sum(m => m.Pss),
            tcg, heap, files, shared, written, other);
    }

    /// <summary>The median of each column over <paramref name="pods"/> (a "median pod"; its parts need not add up to the median of <see cref="Pod"/>).</summary>
    public static PodBreakdown Median(IReadOnlyList<PodBreakdown> pods)
    {
        long M(Func<PodBreakdown, long> f) => (long)Stats.Median(pods.Select(p => (double)f(p)));
        return new PodBreakdown("median", M(p => p.ShimPrivate), M(p => p.ShimShared), M(p => p.TcgCode), M(p => p.QemuHeap),
            M(p => p.QemuFiles), M(p => p.TemplateShared), M(p => p.GuestWritten), M(p => p.Other));
    }

    /// <summary>One mapping of /proc/PID/smaps: its path ("" for anonymous memory, "[heap]" and the like too), permissions and sizes in KiB.</summary>
    private sealed record Smaps(string Path, string Permissions, long Pss, long PrivateDirty)
    {
        public bool IsAnonymous => Path.Length == 0 || Path.StartsWith('[');

        public static IReadOnlyList<Smaps> Read(int pid)
        {
            var list = new List<Smaps>();
            string? path = null, perms = null;
            long pss = 0, dirty = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                if (IsHeader(line))
                {
                    if (perms is not null)
                        list.Add(new Smaps(path!, perms, pss, dirty));
                    var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                    perms = fields[1];
                    path = fields.Length > 5 ? fields[5].Trim() : "";
                    pss = dirty = 0;
                }
                else if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss = Kib(line);
                }
                else if (line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                {
                    dirty = Kib(line);
                }
            }
            if (perms is not null)
                list.Add(new Smaps(path!, perms, pss, dirty));
            return list;
        }

        /// <summary>"55d0-55d1 r--p 00000000 fe:00 123   /usr/bin/x": an address range first.</summary>
        private static bool IsHeader(string line)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            return dash > 0 && space > dash && line[..dash].All(char.IsAsciiHexDigit);
        }

        private static long Kib(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
