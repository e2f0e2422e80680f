namespace Stencil.Oci;

/// <summary>
/// Stencil's own annotation keys, in one place: the ones a pod may set (documented in
/// config/annotations.md; containerd passes them on when its runtime entry lists "io.stencil.*" in
/// pod_annotations) and the one the shim puts on a guest spec for the agent.
/// </summary>
public static class StencilAnnotations
{
    /// <summary>The pod VM's base vCPUs, instead of [hypervisor] default_vcpus.</summary>
    public const string Vcpus = "io.stencil.vcpus";

    /// <summary>The pod VM's base memory in MiB, instead of [hypervisor] default_memory.</summary>
    public const string MemoryMiB = "io.stencil.memory_mib";

    /// <summary>For the agent: the namespace types (comma-separated) a container shares with its pod's
    /// sandbox container (the one named by <see cref="CriAnnotations.SandboxId"/>).</summary>
    public const string JoinSandboxNamespaces = "io.stencil.guest.join-sandbox-namespaces";

    /// <summary>For the agent: this is the pod's CRI sandbox (pause) container, to be served by the agent's
    /// namespace holder instead of by the OCI runtime ("true").</summary>
    public const string SandboxHolder = "io.stencil.guest.sandbox-holder";

    /// <summary>The prefix of the keys only the shim sets for the agent: any a pod or image brings is dropped.</summary>
    public const string GuestPrefix = "io.stencil.guest.";
}
