namespace Stencil.Runtime.Pod;

/// <summary>
/// The pod's cgroup on the host, where its QEMU runs: the spec's linux.cgroupsPath (the sandbox's, or
/// the lone container's), as runc would make it for the container. Under Kubernetes that path lies below
/// the pod's cgroup that the kubelet made with the pod's limits (and the RuntimeClass overhead), so the
/// whole VM is held to them; what QEMU does for the pod (vCPUs, I/O threads, TCG's translation) is
/// charged to the pod, not to the node. Its own limit is the VM's memory plus an allowance for QEMU
/// (<see cref="PodRuntimeOptions.CgroupMemoryOverheadMiB"/>): a guest cannot use more RAM than it has,
/// so a QEMU above that is a runaway one, which the limit stops before it takes the node's memory.
/// </summary>
/// <remarks>
/// cgroup v1 (one hierarchy per controller: the controllers below, each joined) and v2 (one unified
/// hierarchy). The pod's own folder (the last of the path) is removed once QEMU is gone; the folders
/// above it are left, as runc leaves them: they are the kubelet's, or shared by other pods ("default"). A systemd-style path ("slice:prefix:name",
/// containerd's SystemdCgroup) is made as the cgroupfs folders systemd would use, without asking systemd
/// for a scope.
/// </remarks>
public sealed class PodCgroup
{
    public const string DefaultRoot = "/sys/fs/cgroup";

    /// <summary>The v1 hierarchies QEMU joins: what accounts and limits its memory, CPU, I/O and threads.</summary>
    private static readonly string[] s_v1Controllers = ["memory", "cpu", "cpuacct", "blkio", "pids"];

    private readonly object _gate = new();
    private readonly List<string> _leaves;
    private readonly string? _memoryLeaf;
    private readonly bool _unified;
    private readonly Dictionary<int, List<string>> _formerCgroups = [];

    private PodCgroup(string relativePath, List<string> leaves, string? memoryLeaf, bool unified)
    {
        RelativePath = relativePath;
        _leaves = leaves;
        _memoryLeaf = memoryLeaf;
        _unified = unified;
    }

    /// <summary>The cgroup below the hierarchy roots ("default/c1", "kubepods.slice/.../cri-containerd-x.scope").</summary>
    public string RelativePath { get; }

    /// <summary>The folders of the cgroup, one per hierarchy.</summary>
    public IReadOnlyList<string> Leaves => _leaves;

    /// <summary>
    /// The cgroup below the hierarchy roots for an OCI cgroupsPath: "/a/b" and "a/b" are folders;
    /// "slice:prefix:name" is systemd's form ("kubepods-besteffort-pod1.slice:cri-containerd:abc" is
    /// kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope).
    /// A path that would leave the hierarchy (".."), or a malformed systemd form, is InvalidArgument.
    /// </summary>
    public static string ToRelativePath(string cgroupsPath)
    {
        ArgumentNullException.ThrowIfNull(cgroupsPath);
        string relative;
        var parts = cgroupsPath.Split(':');
        if (parts.Length == 3 && !cgroupsPath.StartsWith('/'))
        {
            var (slice, prefix, name) = (parts[0], parts[1], parts[2]);
            if (name.Length == 0)
                throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\": a systemd cgroup path needs a unit name (slice:prefix:name)");
            var unit = name.EndsWith(".slice", StringComparison.Ordinal) ? name
                : (prefix.Length == 0 ? name : $"{prefix}-{name}") + ".scope";
            relative = $"{ExpandSlice(slice.Length == 0 ? "system.slice" : slice, cgroupsPath)}/{unit}";
        }
        else if (parts.Length == 1)
        {
            relative = cgroupsPath.Trim('/');
        }
        else
        {
            throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\" is neither a path nor systemd's slice:prefix:name");
        }
        var segments = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
            throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\" names the root cgroup: a pod needs a cgroup of its own");
        foreach (var segment in segments)
        {
            if (segment is "." or "..")
                throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\" may not contain \"{segment}\"");
        }
        return string.Join('/', segments);
    }

    /// <summary>systemd's slice folders: "a-b-c.slice" lies in a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root.</summary>
    private static string ExpandSlice(string slice, string cgroupsPath)
    {
        if (!slice.EndsWith(".slice", StringComparison.Ordinal) || slice.Contains('/', StringComparison.Ordinal))
            throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\": \"{slice}\" is not a systemd slice name");
        var name = slice[..^".slice".Length];
        if (name == "-")
            return "";
        if (name.Length == 0 || name.StartsWith('-') || name.EndsWith('-') || name.Contains("--", StringComparison.Ordinal))
            throw StencilException.InvalidArgument($"cgroupsPath \"{cgroupsPath}\": \"{slice}\" is not a valid systemd slice name");
        var folders = new List<string>();
        var prefix = "";
        foreach (var part in name.Split('-'))
        {
            prefix = prefix.Length == 0 ? part : $"{prefix}-{part}";
            folders.Add(prefix + ".slice");
        }
        return string.Join('/', folders);
    }

    /// <summary>
    /// The cgroup path containerd's CRI plugin gives a pod's sandbox below the pod's cgroup_parent
    /// (containerd 2.x's sandbox API sends the parent, not the path): systemd's form when the parent is a slice.
    /// Null: no parent was given.
    /// </summary>
    public static string? ForSandbox(string? cgroupParent, string sandboxId)
    {
        if (string.IsNullOrEmpty(cgroupParent))
            return null;
        return cgroupParent.EndsWith(".slice", StringComparison.Ordinal)
            ? $"{cgroupParent}:cri-containerd:{sandboxId}"
            : $"{cgroupParent.TrimEnd('/')}/{sandboxId}";
    }

    /// <summary>
    /// Makes (or finds) the cgroup in every hierarchy under <paramref name="root"/>. Nothing joins it yet.
    /// A hierarchy that cannot be written is FailedPrecondition naming the folder and the reason.
    /// </summary>
    public static PodCgroup Create(string cgroupsPath, string root = DefaultRoot)
    {
        var relative = ToRelativePath(cgroupsPath);
        var (hierarchies, unified) = Hierarchies(root);
        if (hierarchies.Count == 0)
            throw StencilException.FailedPrecondition($"no cgroup hierarchy under {root} to put the pod's QEMU in (cgroupsPath \"{cgroupsPath}\")");
        var leaves = new List<string>();
        string? memoryLeaf = null;
        try
        {
            foreach (var hierarchy in hierarchies)
            {
                var dir = hierarchy;
                foreach (var segment in relative.Split('/'))
                {
                    if (unified && dir != hierarchy)
                        EnableControllers(dir);
                    dir = Path.Combine(dir, segment);
                    Directory.CreateDirectory(dir);
                }
                leaves.Add(dir);
                if (unified || hierarchy.EndsWith("/memory", StringComparison.Ordinal))
                    memoryLeaf = dir;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RemoveFolders(leaves, log: null);
            throw StencilException.FailedPrecondition($"cannot make the pod's cgroup \"{relative}\" under {root}: {ex.Message}");
        }
        return new PodCgroup(relative, leaves, memoryLeaf, unified);
    }

    /// <summary>The hierarchies under <paramref name="root"/>: the unified one alone (v2), or the v1 ones QEMU joins.</summary>
    private static (List<string> Hierarchies, bool Unified) Hierarchies(string root)
    {
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            return ([root], true);
        return (s_v1Controllers.Select(c => Path.Combine(root, c))
            .Where(h => File.Exists(Path.Combine(h, "cgroup.procs")))
            // cpu and cpuacct are often one hierarchy with two names (cpu,cpuacct and symbolic links).
            .DistinctBy(h => new DirectoryInfo(h).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? h)
            .ToList(), false);
    }

    /// <summary>
    /// The pod's cgroup folders a shim killed before its teardown left (for `delete`): removed when empty.
    /// A folder with a process in it is never removed (the kernel refuses). Returns what was left, as warnings.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftover(string cgroupsPath, string root = DefaultRoot)
    {
        var relative = ToRelativePath(cgroupsPath);
        var warnings = new List<string>();
        foreach (var hierarchy in Hierarchies(root).Hierarchies)
        {
            var leaf = Path.Combine(hierarchy, relative);
            try
            {
                if (Directory.Exists(leaf))
                    Directory.Delete(leaf);
            }
            catch (IOException ex)
            {
                warnings.Add($"cgroup {leaf} is left: {ex.Message}");
            }
        }
        return warnings;
    }

    /// <summary>v2: a child gets a controller only when its parent delegates it (best effort: the parent may not have it).</summary>
    private static void EnableControllers(string dir)
    {
        foreach (var controller in new[] { "memory", "cpu", "io", "pids" })
        {
            try
            {
                File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), "+" + controller);
            }
            catch (IOException)
            {
                // not available to this subtree: its limits come from higher up, if any
            }
        }
    }

    /// <summary>
    /// Moves <paramref name="pid"/> (all its threads) into the cgroup. With <paramref name="remember"/>,
    /// where it was is kept so <see cref="Remove"/> can move it back (the shim, which outlives the cgroup).
    /// </summary>
    public void Add(int pid, bool remember = false)
    {
        if (remember)
        {
            var former = _leaves.Select(leaf => FormerCgroup(pid, leaf)).OfType<string>().ToList();
            lock (_gate)
                _formerCgroups[pid] = former;
        }
        foreach (var leaf in _leaves)
            WriteControl(leaf, "cgroup.procs", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), $"process {pid}");
    }

    /// <summary>Sets the cgroup's memory limit (v1 memory.limit_in_bytes, v2 memory.max). Raising is always allowed.</summary>
    public void SetMemoryLimit(long bytes)
    {
        if (_memoryLeaf is null)
            return;
        WriteControl(_memoryLeaf, _unified ? "memory.max" : "memory.limit_in_bytes",
            bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), $"a memory limit of {bytes / (1024 * 1024)} MiB");
    }

    /// <summary>The memory limit read back (bytes; null: none or no memory hierarchy).</summary>
    public long? MemoryLimit()
    {
        if (_memoryLeaf is null)
            return null;
        var text = File.ReadAllText(Path.Combine(_memoryLeaf, _unified ? "memory.max" : "memory.limit_in_bytes")).Trim();
        return long.TryParse(text, out var bytes) && bytes < long.MaxValue / 2 ? bytes : null;
    }

    /// <summary>
    /// Moves remembered processes back where they were, then removes the pod's folders. A folder still
    /// holding a process (QEMU not yet reaped by its parent) is tried again for a moment. Never throws:
    /// what is left is logged.
    /// </summary>
    public void Remove(ILog? log)
    {
        List<KeyValuePair<int, List<string>>> former;
        lock (_gate)
        {
            former = [.. _formerCgroups];
            _formerCgroups.Clear();
        }
        foreach (var (pid, dirs) in former)
        {
            foreach (var dir in dirs)
            {
                try
                {
                    File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (IOException ex)
                {
                    log?.Warning($"cgroup: cannot move process {pid} back to {dir}: {ex.Message}");
                }
            }
        }
        RemoveFolders(_leaves, log);
    }

    private static void RemoveFolders(List<string> leaves, ILog? log)
    {
        foreach (var dir in leaves)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (Directory.Exists(dir))
                        Directory.Delete(dir);
                    break;
                }
                catch (IOException ex) when (attempt < 40)
                {
                    _ = ex; // EBUSY: a process that has exited but is not reaped yet still counts; the parent reaps it at once
                    Thread.Sleep(25);
                }
                catch (IOException ex)
                {
                    log?.Warning($"cgroup: {dir} is left: {ex.Message}");
                    break;
                }
            }
        }
    }

    /// <summary>Where <paramref name="pid"/> is in the hierarchy of <paramref name="leaf"/>, from /proc/PID/cgroup.</summary>
    private string? FormerCgroup(int pid, string leaf)
    {
        var hierarchy = leaf[..^(RelativePath.Length + 1)];
        var controller = _unified ? "" : Path.GetFileName(hierarchy);
        foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
        {
            var fields = line.Split(':', 3);
            if (fields.Length != 3)
                continue;
            var matches = _unified ? fields[0] == "0" : fields[1].Split(',').Contains(controller);
            if (matches)
                return Path.Combine(hierarchy, fields[2].TrimStart('/'));
        }
        return null;
    }

    private static void WriteControl(string dir, string file, string value, string what)
    {
        try
        {
            File.WriteAllText(Path.Combine(dir, file), value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw StencilException.FailedPrecondition($"cannot give the pod's cgroup {dir} {what} ({file}): {ex.Message}");
        }
    }
}
