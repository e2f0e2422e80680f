using Stencil.Agent.Containers;
using Stencil.Agent.Service;
using Stencil.Agent.Tests.Unit.Fakes;
using static Stencil.Agent.Tests.Unit.Fakes.ContainerManagerHarness;

namespace Stencil.Agent.Tests.Unit;

/// <summary>StatsContainer and ListProcesses: what the container's cgroup holds. Against fakes: no VM, no crun, no mounts.</summary>
[Trait("Category", "Unit")]
public class ContainerManagerInspectTests
{
    private readonly ContainerManagerHarness _h = new();

    [Fact]
    public async Task Stats_come_from_the_cgroup_and_map_to_the_protocol()
    {
        await _h.CreateRunningAsync();
        _h.Syscalls.CreateDirectory(Cgroup);
        _h.Syscalls.Files[$"{Cgroup}/cpu.stat"] = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n";
        _h.Syscalls.Files[$"{Cgroup}/memory.current"] = "4096\n";
        _h.Syscalls.Files[$"{Cgroup}/memory.max"] = "8192\n";
        _h.Syscalls.Files[$"{Cgroup}/memory.stat"] = "anon 1024\nfile 2048\ninactive_file 512\npgfault 42\npgmajfault 7\n";
        _h.Syscalls.Files[$"{Cgroup}/memory.events"] = "oom_kill 1\n";
        _h.Syscalls.Files[$"{Cgroup}/pids.current"] = "3\n";
        _h.Syscalls.Files[$"{Cgroup}/io.stat"] = "254:0 rbytes=100 wbytes=200 rios=1 wios=2\n";

        var usage = _h.Manager.Stats("c1");
        var proto = StatsMapping.ToProto(usage);

        Assert.Equal(new CpuUsage(1500, 1000, 500, 10, 2, 300), usage.Cpu);
        Assert.Equal(new MemoryUsage(4096, 8192, 0, 1024, 2048, 1, 42, 7, 512), usage.Memory);
        Assert.Equal(new PidsUsage(3, 0), usage.Pids);
        Assert.Equal(new IoUsage(100, 200, 1, 2), usage.Io);
        Assert.Equal((1500UL, 1000UL, 500UL, 10UL, 2UL, 300UL),
            (proto.Cpu.UsageUsec, proto.Cpu.UserUsec, proto.Cpu.SystemUsec, proto.Cpu.NrPeriods, proto.Cpu.NrThrottled, proto.Cpu.ThrottledUsec));
        Assert.Equal((4096UL, 8192UL, 0UL, 1024UL, 2048UL, 1UL, 42UL, 7UL, 512UL),
            (proto.Memory.UsageBytes, proto.Memory.LimitBytes, proto.Memory.MaxUsageBytes, proto.Memory.AnonBytes, proto.Memory.FileBytes,
                proto.Memory.OomKills, proto.Memory.PageFaults, proto.Memory.MajorPageFaults, proto.Memory.InactiveFileBytes));
        Assert.Equal((3UL, 0UL), (proto.Pids.Current, proto.Pids.Limit));
        Assert.Equal((100UL, 200UL, 1UL, 2UL), (proto.Io.ReadBytes, proto.Io.WriteBytes, proto.Io.ReadIos, proto.Io.WriteIos));
    }

    [Fact]
    public async Task Stats_of_a_container_without_a_cgroup_is_NotFound()
    {
        await _h.CreateRunningAsync();

        var ex = Assert.Throws<StencilException>(() => _h.Manager.Stats("c1"));

        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal($"cgroup {Cgroup} does not exist (the container has stopped)", ex.Message);
    }

    [Fact]
    public async Task Processes_are_listed_from_every_cgroup_below_the_container_with_their_command_lines()
    {
        await _h.CreateRunningAsync();
        _h.Syscalls.CreateDirectory(Cgroup);
        _h.Syscalls.Files[$"{Cgroup}/cgroup.procs"] = "100\n";
        _h.Syscalls.Files[$"{Cgroup}/sub/cgroup.procs"] = "200\n300\n";
        _h.Syscalls.Files["/proc/100/cmdline"] = "sleep\060\0";
        _h.Syscalls.Files["/proc/200/cmdline"] = "sh\0";
        // 300 is gone before its cmdline is read: left out.

        var processes = _h.Manager.ListProcesses("c1");

        Assert.Equal([(100, ["sleep", "60"]), (200, ["sh"])], processes.Select(p => (p.Pid, p.Args.ToArray())).ToArray(),
            new ProcessComparer());
    }

    private sealed class ProcessComparer : IEqualityComparer<(int Pid, string[] Args)>
    {
        public bool Equals((int Pid, string[] Args) x, (int Pid, string[] Args) y) => x.Pid == y.Pid && x.Args.SequenceEqual(y.Args);

        public int GetHashCode((int Pid, string[] Args) obj) => obj.Pid;
    }
}
