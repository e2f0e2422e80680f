namespace Stencil.Agent.Client;

/// <summary>
/// The typed agent API the host side uses (Kata's AgentService, our own messages): what the pod runtime,
/// the stdio forwarders and the port-forward relay call. <see cref="AgentClient"/> speaks it over ttRPC;
/// unit tests of the layers above stand in a fake. Every call may fail with a StencilException of the
/// agent's kind (NotFound, FailedPrecondition, ...) or Unavailable when the link is gone.
/// </summary>
public interface IAgentClient : IAsyncDisposable
{
    /// <summary>Completes when the connection to the agent has closed.</summary>
    Task Closed { get; }

    /// <summary>Why the connection closed (the peer went away, stopped reading, or broke the protocol); null while open.</summary>
    string? CloseReason { get; }

    /// <summary>Closes the link from the host's side (an agent that stopped answering); <see cref="Closed"/> completes and <see cref="CloseReason"/> is <paramref name="reason"/>.</summary>
    void Disconnect(string reason);

    /// <summary>The agent's health check, with the client's own call timeout.</summary>
    Task<bool> CheckAsync(CancellationToken cancellationToken = default);

    Task<bool> CheckAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    Task<AgentVersionInfo> VersionAsync(CancellationToken cancellationToken = default);

    Task CreateSandboxAsync(SandboxConfig config, CancellationToken cancellationToken = default);

    /// <summary>Removes every container (killing what runs), unmounts the shared folder.</summary>
    Task DestroySandboxAsync(CancellationToken cancellationToken = default);

    /// <summary>Mounts the storages, writes the bundle, runs the OCI runtime's create. Returns the init's pid in the guest.</summary>
    Task<int> CreateContainerAsync(ContainerConfig config, CancellationToken cancellationToken = default);

    /// <summary>CreateContainer, with the agent's own step times (for the host's debug log).</summary>
    async Task<CreatedContainer> CreateContainerTimedAsync(ContainerConfig config, CancellationToken cancellationToken = default) =>
        new(await CreateContainerAsync(config, cancellationToken).ConfigureAwait(false), []);

    Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default);

    /// <param name="force">Kill a running or paused container first; otherwise that is FailedPrecondition.</param>
    Task RemoveContainerAsync(string containerId, bool force = false, CancellationToken cancellationToken = default);

    Task PauseContainerAsync(string containerId, CancellationToken cancellationToken = default);

    Task ResumeContainerAsync(string containerId, CancellationToken cancellationToken = default);

    /// <param name="resourcesJson">An OCI LinuxResources object.</param>
    Task UpdateContainerAsync(string containerId, ReadOnlyMemory<byte> resourcesJson, CancellationToken cancellationToken = default);

    Task<ContainerStatistics> StatsContainerAsync(string containerId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<GuestProcessInfo>> ListProcessesAsync(string containerId, CancellationToken cancellationToken = default);

    /// <param name="processJson">An OCI Process object (terminal, args, env, cwd, user...).</param>
    Task<int> ExecProcessAsync(string containerId, string execId, ReadOnlyMemory<byte> processJson, CancellationToken cancellationToken = default);

    /// <param name="execId">"" (or null) for the container's init process.</param>
    /// <param name="all">Every process of the container (init only).</param>
    Task SignalProcessAsync(string containerId, string? execId, int signal, bool all = false, CancellationToken cancellationToken = default);

    /// <summary>Waits for the process to exit (no timeout: cancel the token to stop waiting).</summary>
    Task<ProcessExit> WaitProcessAsync(string containerId, string? execId, CancellationToken cancellationToken = default);

    /// <summary>Writes to the process's stdin (its terminal, if it has one); waits while the pipe is full.</summary>
    Task<int> WriteStdinAsync(string containerId, string? execId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Waits for output and returns what is there (at most <paramref name="maxLength"/>); empty at end of stream.</summary>
    Task<ReadOnlyMemory<byte>> ReadAsync(string containerId, string? execId, StdioStream stream, int maxLength = AgentClient.MaxReadChunk,
        CancellationToken cancellationToken = default);

    /// <summary>End of input: closes the stdin pipe (a terminal gets ^D instead).</summary>
    Task CloseStdinAsync(string containerId, string? execId, CancellationToken cancellationToken = default);

    Task ResizeTtyAsync(string containerId, string? execId, int rows, int columns, CancellationToken cancellationToken = default);

    /// <summary>Waits for the next OOM kill in any container; returns the container's id.</summary>
    Task<string> GetOomEventAsync(CancellationToken cancellationToken = default);

    /// <summary>Onlines hot-added vCPUs (waiting until <paramref name="wantCpus"/> are online) and memory blocks.</summary>
    Task<CpuMemOnlineResult> OnlineCpuMemAsync(int wantCpus = 0, bool cpuOnly = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Mixes host random bytes into the guest's RNG and reseeds it.</summary>
    Task ReseedRandomDevAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    Task SetGuestDateTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default);

    Task<GuestDetails> GetGuestDetailsAsync(CancellationToken cancellationToken = default);

    Task<NetworkInterface> UpdateInterfaceAsync(NetworkInterface wanted, CancellationToken cancellationToken = default);

    /// <summary>Replaces the routes set by an earlier call with these.</summary>
    Task<IReadOnlyList<NetworkRoute>> UpdateRoutesAsync(IReadOnlyList<NetworkRoute> routes, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<NetworkInterface>> ListInterfacesAsync(CancellationToken cancellationToken = default);

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> inside the guest; returns the stream's id.</summary>
    Task<ulong> PortForwardOpenAsync(int port, CancellationToken cancellationToken = default);

    Task<int> PortForwardWriteAsync(ulong streamId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    Task<ReadOnlyMemory<byte>> PortForwardReadAsync(ulong streamId, int maxLength = AgentClient.MaxReadChunk, CancellationToken cancellationToken = default);

    /// <summary>Half-close: the guest's server reads end of file.</summary>
    Task PortForwardCloseWriteAsync(ulong streamId, CancellationToken cancellationToken = default);

    Task PortForwardCloseAsync(ulong streamId, CancellationToken cancellationToken = default);
}
