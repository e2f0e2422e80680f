namespace Stencil.Agent.Client;

/// <summary>What CreateSandbox sets up in the guest.</summary>
/// <param name="Hostname">null or empty: keep the guest's.</param>
/// <param name="Shared">The virtio-9p share holding the containers' root file systems, or null.</param>
/// <param name="PodNamespaces">Set (containerd's sandbox API, no pause container): the agent holds the
/// pod's namespaces and files; null: the pod's sandbox container holds them.</param>
public sealed record SandboxConfig(
    string SandboxId,
    string? Hostname = null,
    IReadOnlyList<string>? DnsServers = null,
    IReadOnlyList<string>? DnsSearch = null,
    IReadOnlyList<string>? DnsOptions = null,
    SharedFolderConfig? Shared = null,
    PodNamespacesConfig? PodNamespaces = null);
