namespace Stencil.Agent.Client;

/// <summary>A process of a container, as the guest sees it.</summary>
public sealed record GuestProcessInfo(int Pid, IReadOnlyList<string> Args);
