namespace Stencil.Agent.Client;

public sealed record CpuMemOnlineResult(int CpusOnline, int CpusOnlined, int MemoryBlocksOnlined, ulong MemoryTotalBytes);
