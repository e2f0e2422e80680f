using Stencil.Agent.Containers;
using Stencil.Protocols.Agent;

namespace Stencil.Agent.Service;

/// <summary>The agent's <see cref="ContainerUsage"/> as the protocol's ContainerStats (StatsContainer's answer).</summary>
internal static class StatsMapping
{
    internal static ContainerStats ToProto(ContainerUsage usage) => new()
    {
        Cpu = new CpuStats
        {
            UsageUsec = usage.Cpu.UsageUsec,
            UserUsec = usage.Cpu.UserUsec,
            SystemUsec = usage.Cpu.SystemUsec,
            NrPeriods = usage.Cpu.NrPeriods,
            NrThrottled = usage.Cpu.NrThrottled,
            ThrottledUsec = usage.Cpu.ThrottledUsec,
        },
        Memory = new MemoryStats
        {
            UsageBytes = usage.Memory.UsageBytes,
            LimitBytes = usage.Memory.LimitBytes,
            MaxUsageBytes = usage.Memory.MaxUsageBytes,
            AnonBytes = usage.Memory.AnonBytes,
            FileBytes = usage.Memory.FileBytes,
            OomKills = usage.Memory.OomKills,
            PageFaults = usage.Memory.PageFaults,
            MajorPageFaults = usage.Memory.MajorPageFaults,
            InactiveFileBytes = usage.Memory.InactiveFileBytes,
        },
        Pids = new PidsStats { Current = usage.Pids.Current, Limit = usage.Pids.Limit },
        Io = new IoStats
        {
            ReadBytes = usage.Io.ReadBytes,
            WriteBytes = usage.Io.WriteBytes,
            ReadIos = usage.Io.ReadIos,
            WriteIos = usage.Io.WriteIos,
        },
    };
}
