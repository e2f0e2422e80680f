namespace Stencil.Runtime;

/// <summary>
/// Everything the shim's Task service asks of one pod (one shim daemon, one VM, its containers and
/// their processes). The Task service converts protobuf to these types and back; nothing below it
/// sees protobuf. Every failure is a StencilException whose kind the service maps to a ttRPC status.
/// execId parameters: null or empty means the container's init process.
/// </summary>
public interface IPodRuntime : IAsyncDisposable
{
    /// <summary>Creates a container (the first one creates the pod's VM). Returns its init pid (in the guest).</summary>
    Task<uint> CreateAsync(CreateContainerRequest request, CancellationToken cancellationToken);

    /// <summary>Starts a container's init process or an exec'd process; returns its pid.</summary>
    Task<uint> StartAsync(string id, string? execId, CancellationToken cancellationToken);

    /// <summary>Saves the pod (its VM and what the runtime knows of it) into <paramref name="folder"/>; <paramref name="exit"/> then kills the container.</summary>
    Task CheckpointAsync(string id, string folder, bool exit, CancellationToken cancellationToken) =>
        throw StencilException.Unimplemented("checkpoint is not supported by this runtime");

    /// <summary>Answered from the shim's own state, never by a round trip into the guest.</summary>
    ProcessStatus State(string id, string? execId);

    Task<ExitStatus> DeleteAsync(string id, string? execId, CancellationToken cancellationToken);

    Task<IReadOnlyList<uint>> PidsAsync(string id, CancellationToken cancellationToken);

    Task PauseAsync(string id, CancellationToken cancellationToken);

    Task ResumeAsync(string id, CancellationToken cancellationToken);

    Task KillAsync(string id, string? execId, uint signal, bool all, CancellationToken cancellationToken);

    Task ExecAsync(ExecRequest request, CancellationToken cancellationToken);

    Task ResizePtyAsync(string id, string? execId, uint width, uint height, CancellationToken cancellationToken);

    Task CloseStdinAsync(string id, string? execId, CancellationToken cancellationToken);

    /// <summary><paramref name="resourcesJson"/>: a runtime-spec LinuxResources object as JSON.</summary>
    Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken);

    /// <summary>Blocks until the process exits (possibly for a long time).</summary>
    Task<ExitStatus> WaitAsync(string id, string? execId, CancellationToken cancellationToken);

    Task<ContainerStats> StatsAsync(string id, CancellationToken cancellationToken);

    /// <summary>Number of containers that still exist (the shim exits after Shutdown when it is 0).</summary>
    int ContainerCount { get; }

    /// <summary>Task lifecycle events to forward to containerd, in the order they happened.</summary>
    IAsyncEnumerable<RuntimeEvent> Events { get; }
}
