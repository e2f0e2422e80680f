namespace Stencil.Agent.Client;

/// <summary>
/// Asks the agent to stand in for the pod's pause container (containerd's sandbox API): it holds the
/// pod's IPC, UTS and PID namespaces itself, writes the pod's hostname, hosts and resolv.conf, and
/// gives the pod's containers one shared /dev/shm.
/// </summary>
/// <param name="Sysctls">The pod's sysctls by dotted name ("kernel.shmmax"): net.* are set in the
/// guest's network namespace (the pod's network), kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*
/// in the pod's IPC namespace; the agent refuses any other.</param>
public sealed record PodNamespacesConfig(IReadOnlyDictionary<string, string> Sysctls)
{
    /// <summary>No sysctls.</summary>
    public PodNamespacesConfig()
        : this(new Dictionary<string, string>())
    {
    }
}
