using System.Globalization;
using Stencil.TestSupport;

namespace Stencil.Reliability.Load;

/// <summary>
/// What a run has on the host at one moment: QEMU and shim processes naming its folders, mounts and
/// unix sockets under them, tap devices, pod state entries, and on the tmpfs mounts under them (the
/// template's) the files, their bytes, and the bytes the tmpfs has in use. Taken before and after a
/// scenario; the difference is what the scenario left behind.
/// Used bytes can grow without a file growing: a clone that touches a page the template's memory file
/// never held (a hole) makes shmem allocate it in that file, shared by every later clone; that is
/// bounded by the file's size and is reported, not counted as a leak.
/// </summary>
public sealed record HostCensus(int Qemu, int Shims, int Mounts, int Sockets, int Taps, int PodState, int TmpfsFiles, long TmpfsFileBytes, long TmpfsUsedBytes)
{
    public static async Task<HostCensus> TakeAsync(LoadHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string[] folders = [host.RunFolder, host.ContainerdFolder];
        var mounts = MountsUnder(folders);
        var tmpfs = mounts.Where(m => m.FsType == "tmpfs").Select(m => m.Point).ToList();
        var files = tmpfs.SelectMany(FilesUnder).ToDictionary(StringComparer.Ordinal);
        return new HostCensus(
            Qemu: Leftovers.Processes(p => p.Program.StartsWith("qemu-system", StringComparison.Ordinal) && Mentions(p, folders)).Count,
            Shims: ShimPids(host).Count,
            Mounts: mounts.Count,
            Sockets: await CountSocketsAsync(folders).ConfigureAwait(false),
            Taps: Directory.Exists("/sys/class/net") ? Directory.EnumerateDirectories("/sys/class/net", "tap*").Count() : 0,
            PodState: Leftovers.PodStateUnder(Path.Combine(host.RunFolder, "state")).Count,
            TmpfsFiles: files.Count,
            TmpfsFileBytes: files.Values.Sum(),
            TmpfsUsedBytes: tmpfs.Sum(UsedBytes))
        {
            TmpfsFileSizes = files,
        };
    }

    /// <summary>Every file on those tmpfs mounts with its size: what <see cref="TmpfsFileBytes"/> is made of, to name what grew.</summary>
    public IReadOnlyDictionary<string, long> TmpfsFileSizes { get; init; } = new Dictionary<string, long>();

    /// <summary>Files on the tmpfs mounts that are new or larger than in <paramref name="before"/>, with their growth in bytes.</summary>
    public IReadOnlyList<string> TmpfsGrowth(HostCensus before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return [.. TmpfsFileSizes
            .Select(f => (Path: f.Key, Growth: f.Value - before.TmpfsFileSizes.GetValueOrDefault(f.Key)))
            .Where(f => f.Growth > 0 || !before.TmpfsFileSizes.ContainsKey(f.Path))
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Path} +{f.Growth}"))];
    }

    private static IEnumerable<KeyValuePair<string, long>> FilesUnder(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        try
        {
            return [.. new DirectoryInfo(folder).EnumerateFiles("*", options).Select(f => KeyValuePair.Create(f.FullName, f.Length))];
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>This census minus <paramref name="before"/>: what appeared and stayed.</summary>
    public HostCensus Minus(HostCensus before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return new(Qemu - before.Qemu, Shims - before.Shims, Mounts - before.Mounts, Sockets - before.Sockets, Taps - before.Taps,
            PodState - before.PodState, TmpfsFiles - before.TmpfsFiles, TmpfsFileBytes - before.TmpfsFileBytes, TmpfsUsedBytes - before.TmpfsUsedBytes);
    }

    /// <summary>
    /// As a difference: no process, mount, socket, tap, pod state or tmpfs file more than before, and
    /// tmpfs files grown by at most one byte per pod (the template's `served` counter, one O_APPEND
    /// byte per clone, by design). Used tmpfs bytes are not judged (see the type's summary).
    /// </summary>
    public bool IsCleanAfter(int pods) =>
        Qemu <= 0 && Shims <= 0 && Mounts <= 0 && Sockets <= 0 && Taps <= 0 && PodState <= 0 && TmpfsFiles <= 0 && TmpfsFileBytes <= pods;

    /// <summary>Shim processes (start and daemon) that containerd at <see cref="LoadHost.ContainerdFolder"/> spawned.</summary>
    public static IReadOnlyList<int> ShimPids(LoadHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return [.. Leftovers.Processes(p => p.Program == "containerd-shim-stencil-v2" && Mentions(p, [host.ContainerdFolder, host.RunFolder])).Select(p => p.Pid)];
    }

    private static bool Mentions(LeftoverProcess process, string[] folders) =>
        folders.Any(f => process.CommandLine.Contains(f + "/", StringComparison.Ordinal));

    private static List<(string Point, string FsType)> MountsUnder(string[] folders)
    {
        var found = new List<(string, string)>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mount-point options ... - fstype source super-options
            var fields = line.Split(' ');
            var point = fields[4];
            var dash = Array.IndexOf(fields, "-");
            if (dash > 0 && folders.Any(f => point == f || point.StartsWith(f + "/", StringComparison.Ordinal)))
                found.Add((point, fields[dash + 1]));
        }
        return found;
    }

    /// <summary>Unix sockets below the folders (`find -type s`: .NET has no file-type test for sockets).</summary>
    private static async Task<int> CountSocketsAsync(string[] folders)
    {
        var existing = folders.Where(Directory.Exists).ToArray();
        if (existing.Length == 0)
            return 0;
        var find = await ChildProcess.RunAsync("find", [.. existing, "-type", "s"], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        // Exit 1 when a folder vanished under it (a pod removed meanwhile): what it printed still counts.
        return find.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static long UsedBytes(string mountPoint)
    {
        try
        {
            var drive = new DriveInfo(mountPoint);
            return drive.TotalSize - drive.TotalFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"qemu {Qemu}, shims {Shims}, mounts {Mounts}, sockets {Sockets}, taps {Taps}, pod state {PodState}, tmpfs files {TmpfsFiles} ({TmpfsFileBytes} bytes), tmpfs used {TmpfsUsedBytes} bytes");
}
