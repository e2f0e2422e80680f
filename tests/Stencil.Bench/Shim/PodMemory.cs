namespace Stencil.Bench.Shim;

/// <summary>One pod's memory: its shim daemon and every process below it (QEMU).</summary>
internal sealed record PodMemory(string Id, int ShimPid, ProcessMemory Shim, IReadOnlyList<(int Pid, string Name, ProcessMemory Memory)> Children)
{
    public long ChildrenPssKiB => Children.Sum(c => c.Memory.PssKiB);

    public long ChildrenRssKiB => Children.Sum(c => c.Memory.RssKiB);

    /// <summary>Shim plus QEMU: what one more pod costs the host.</summary>
    public long PodPssKiB => Shim.PssKiB + ChildrenPssKiB;

    /// <summary>Reads the pod whose shim daemon serves container <paramref name="id"/> on a socket in <paramref name="socketDir"/>.</summary>
    public static PodMemory Read(string id, string socketDir)
    {
        var shim = FindDaemon(id, socketDir);
        var children = ProcessMemory.Descendants(shim)
            .Select(pid => (pid, ProcessMemory.Name(pid), ProcessMemory.Read(pid)))
            .ToList();
        return new PodMemory(id, shim, ProcessMemory.Read(shim), children);
    }

    /// <summary>The `serve` process started for <paramref name="id"/>: "-id ID" and "-socket DIR/..." on its command line.</summary>
    public static int FindDaemon(string id, string socketDir)
    {
        var daemons = ProcessMemory.All()
            .Where(p => p.Args.Length > 0 && p.Args[^1] == "serve"
                && Flag(p.Args, "-id") == id
                && (Flag(p.Args, "-socket") ?? "").StartsWith(socketDir + "/", StringComparison.Ordinal))
            .Select(p => p.Pid)
            .ToList();
        return daemons.Count == 1
            ? daemons[0]
            : throw new InvalidOperationException($"expected one shim daemon for {id} with a socket in {socketDir}, found {daemons.Count}");
    }

    private static string? Flag(string[] args, string flag)
    {
        var i = Array.IndexOf(args, flag);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
