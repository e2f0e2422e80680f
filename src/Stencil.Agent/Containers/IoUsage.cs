namespace Stencil.Agent.Containers;

/// <summary>io.stat, summed over every device.</summary>
internal sealed record IoUsage(ulong ReadBytes, ulong WriteBytes, ulong ReadIos, ulong WriteIos);
