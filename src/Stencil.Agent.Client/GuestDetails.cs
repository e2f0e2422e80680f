namespace Stencil.Agent.Client;

/// <param name="OciRuntimes">What the guest ships, the default first.</param>
/// <param name="MemoryBlockSizeBytes">The hotplug granularity; 0 if unknown.</param>
public sealed record GuestDetails(
    string KernelRelease,
    ulong MemoryTotalBytes,
    ulong MemoryAvailableBytes,
    int CpusOnline,
    int CpusPossible,
    string AgentVersion,
    IReadOnlyList<string> OciRuntimes,
    ulong MemoryBlockSizeBytes,
    ulong AgentRssBytes);
