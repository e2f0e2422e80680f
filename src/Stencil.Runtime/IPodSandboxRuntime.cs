namespace Stencil.Runtime;

/// <summary>
/// containerd 2.x's sandbox API as the pod runtime serves it (`sandboxer = "shim"`): the pod's VM is the
/// sandbox, created and started before any container and stopped on its own call, with no pause container.
/// The shim's Sandbox service converts protobuf to these types; nothing below it sees protobuf.
/// Every sandbox id given must be the pod's own id (one shim daemon serves one sandbox).
/// </summary>
public interface IPodSandboxRuntime
{
    /// <summary>Records and checks the pod's configuration; starts nothing.</summary>
    Task CreateSandboxAsync(SandboxRequest request, CancellationToken cancellationToken);

    /// <summary>Starts the pod's VM (network, namespaces held in the guest); returns QEMU's pid and when it was created.</summary>
    Task<SandboxStarted> StartSandboxAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Stops the VM and releases its network (CNI tears the namespace down right after); containers left die with it.</summary>
    Task StopSandboxAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Blocks until the sandbox has stopped (on purpose: exit status 0) or its VM died (255).</summary>
    Task<ExitStatus> WaitSandboxAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Answered from the shim's own state.</summary>
    SandboxStatus SandboxStatus(string sandboxId, bool verbose);

    /// <summary>Stops what still runs and ends the sandbox; the shim exits after answering.</summary>
    Task ShutdownSandboxAsync(string sandboxId, CancellationToken cancellationToken);
}

/// <summary>How a pod asks to share a namespace (CRI's NamespaceMode).</summary>
public enum PodNamespaceMode
{
    Pod = 0,
    Container = 1,
    Node = 2,
    Target = 3,
}

/// <summary>What CreateSandbox gives: the pod's configuration as CRI sent it, converted at the service edge.</summary>
/// <param name="NetworkNamespace">The namespace CNI has set up; null or empty: the pod asked for the host's network.</param>
/// <param name="Hostname">Empty: the pod's name is not the hostname (containerd always sends one).</param>
/// <param name="Sysctls">The pod's sysctls, set in the guest (net.* in its network, IPC ones in the pod's IPC namespace).</param>
/// <param name="Annotations">The pod's annotations (Stencil's sizing annotations are read from them).</param>
/// <param name="CgroupParent">The pod's cgroup (the kubelet's, with the pod's limits), below which its QEMU goes; null: none.</param>
public sealed record SandboxRequest(
    string Id,
    string Bundle,
    string? NetworkNamespace,
    string Hostname,
    IReadOnlyList<string> DnsServers,
    IReadOnlyList<string> DnsSearch,
    IReadOnlyList<string> DnsOptions,
    IReadOnlyDictionary<string, string> Sysctls,
    IReadOnlyDictionary<string, string> Annotations,
    PodNamespaceMode PidMode = PodNamespaceMode.Container,
    PodNamespaceMode IpcMode = PodNamespaceMode.Pod,
    bool UserNamespace = false,
    string? CgroupParent = null);

/// <param name="Pid">QEMU's pid on the host (the process that is the sandbox).</param>
public sealed record SandboxStarted(uint Pid, DateTimeOffset CreatedAt);

/// <param name="Ready">The VM runs and the sandbox has not been stopped.</param>
public sealed record SandboxStatus(string Id, uint Pid, bool Ready, DateTimeOffset CreatedAt, DateTimeOffset? ExitedAt, IReadOnlyDictionary<string, string> Info);
