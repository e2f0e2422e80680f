namespace Stencil.Agent.Containers;

/// <summary>
/// A container's numbers from its cgroup v2 folder (<see cref="CgroupStats"/>), as the agent keeps
/// them: plain data, mapped to the protocol's ContainerStats only at the service edge. A number whose
/// file or key is missing (a controller off) is 0.
/// </summary>
internal sealed record ContainerUsage(CpuUsage Cpu, MemoryUsage Memory, PidsUsage Pids, IoUsage Io);
