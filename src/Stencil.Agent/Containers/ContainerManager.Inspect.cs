using System.Globalization;

namespace Stencil.Agent.Containers;

/// <summary>What a container's cgroup holds: its numbers and its processes.</summary>
internal sealed partial class ContainerManager
{
    internal ContainerUsage Stats(string id)
    {
        var c = Get(id);
        // The namespace holder serving a sandbox container has no cgroup of its own: nothing used.
        return c.HeldByAgent ? CgroupStats.Parse(null, null, null, null, null, null, null, null, null) : CgroupStats.Read(_syscalls, c.CgroupDir);
    }

    /// <summary>The container's processes: every pid in its cgroup (and sub-cgroups), with its command line.</summary>
    internal IReadOnlyList<(int Pid, IReadOnlyList<string> Args)> ListProcesses(string id)
    {
        var c = Get(id);
        var result = new List<(int, IReadOnlyList<string>)>();
        if (!_syscalls.DirectoryExists(c.CgroupDir))
            return result;
        var files = new List<string> { Path.Combine(c.CgroupDir, "cgroup.procs") };
        files.AddRange(_syscalls.FindFiles(c.CgroupDir, "cgroup.procs").Where(f => f != files[0]));
        foreach (var file in files)
        {
            if (_syscalls.TryReadText(file) is not { } text)
                continue;
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    continue;
                if (_syscalls.TryReadText($"/proc/{pid}/cmdline") is not { } cmdline)
                    continue;
                result.Add((pid, cmdline.Split('\0', StringSplitOptions.RemoveEmptyEntries)));
            }
        }
        return result;
    }
}
