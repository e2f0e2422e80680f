namespace Stencil.Agent.Guest;

/// <summary>What CreateSandbox asks for, decoded.</summary>
internal sealed record SandboxSettings(
    string SandboxId,
    string Hostname,
    IReadOnlyList<string> DnsServers,
    IReadOnlyList<string> DnsSearch,
    IReadOnlyList<string> DnsOptions,
    string? MountTag,
    string SharedGuestPath,
    uint Msize)
{
    /// <summary>Non-null (containerd's sandbox API): the agent holds the pod's namespaces; the pod's sysctls.</summary>
    internal IReadOnlyList<Pod.Sysctl>? PodSysctls { get; init; }
}
