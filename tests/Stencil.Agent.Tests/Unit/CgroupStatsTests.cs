using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class CgroupStatsTests
{
    [Fact]
    public void Parses_cgroup_v2_files()
    {
        var s = CgroupStats.Parse(
            cpuStat: "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n",
            memoryCurrent: "4096\n",
            memoryMax: "max\n",
            memoryPeak: "8192\n",
            memoryStat: "anon 1024\nfile 2048\nkernel 100\ninactive_file 512\npgfault 4242\npgmajfault 7\n",
            memoryEvents: "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
            pidsCurrent: "3\n",
            pidsMax: "100\n",
            ioStat: "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n254:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
        Assert.Equal(1500UL, s.Cpu.UsageUsec);
        Assert.Equal(1000UL, s.Cpu.UserUsec);
        Assert.Equal(500UL, s.Cpu.SystemUsec);
        Assert.Equal(2UL, s.Cpu.NrThrottled);
        Assert.Equal(4096UL, s.Memory.UsageBytes);
        Assert.Equal(0UL, s.Memory.LimitBytes);
        Assert.Equal(8192UL, s.Memory.MaxUsageBytes);
        Assert.Equal(1024UL, s.Memory.AnonBytes);
        Assert.Equal(2048UL, s.Memory.FileBytes);
        Assert.Equal(1UL, s.Memory.OomKills);
        Assert.Equal((4242UL, 7UL, 512UL), (s.Memory.PageFaults, s.Memory.MajorPageFaults, s.Memory.InactiveFileBytes));
        Assert.Equal(3UL, s.Pids.Current);
        Assert.Equal(100UL, s.Pids.Limit);
        Assert.Equal(101UL, s.Io.ReadBytes);
        Assert.Equal(202UL, s.Io.WriteBytes);
        Assert.Equal(4UL, s.Io.ReadIos);
        Assert.Equal(6UL, s.Io.WriteIos);
    }

    [Fact]
    public void Missing_files_are_zero()
    {
        var s = CgroupStats.Parse(null, null, null, null, null, null, null, null, null);
        Assert.Equal(0UL, s.Cpu.UsageUsec);
        Assert.Equal(0UL, s.Memory.UsageBytes);
        Assert.Equal(0UL, s.Io.ReadBytes);
    }
}
