using System.Net.Sockets;
using Google.Protobuf;
using Stencil.Agent.Client.Internal;
using Stencil.Ttrpc;
using Stencil.Protocols.Agent;
using Proto = Stencil.Protocols.Agent;

namespace Stencil.Agent.Client;

/// <summary>
/// The typed client of the guest agent (agent.proto over ttRPC). Calls that return at once carry
/// <see cref="CallTimeout"/>; calls that wait for the guest (WaitProcess, reads, stdin writes,
/// GetOOMEvent) wait until they are answered or cancelled. Errors are StencilExceptions with the
/// agent's kind (NotFound, InvalidArgument, ...); a lost connection is Unavailable.
/// </summary>
/// <remarks>
/// The guest is untrusted (Kata's threat model): the link has <see cref="TtrpcClientOptions.ForUntrustedPeer"/>'s
/// bounds, and a reply that breaks the agent's contract (more bytes than a read asked for, a write
/// that claims what it was not given, a pid or an address that cannot be one) fails its call with
/// Internal and closes the link (<see cref="CloseReason"/> says why): the pod runtime then marks the pod failed.
/// </remarks>
public sealed class AgentClient : IAgentClient
{
    /// <summary>The largest chunk ReadStdout/ReadStderr return.</summary>
    public const int MaxReadChunk = 1 << 20;

    private readonly TtrpcClient _client;

    public AgentClient(TtrpcClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>Over any duplex stream (a vsock or unix socket, a test pipe), with the bounds of an untrusted peer.</summary>
    public AgentClient(Stream stream)
        : this(new TtrpcClient(stream, TtrpcClientOptions.ForUntrustedPeer))
    {
    }

    /// <summary>For calls that do not wait on the guest. Default 60 s (a container create under TCG takes a while).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Completes when the connection is gone.</summary>
    public Task Closed => _client.Closed;

    /// <inheritdoc/>
    public string? CloseReason => _client.CloseReason;

    /// <summary>The ttRPC stream id of the next call (a checkpoint keeps it: the restored VM's client starts past it).</summary>
    public uint NextStreamId => _client.NextStreamId;

    /// <summary>Connects to the host end of the agent's port (QEMU's unix socket chardev).</summary>
    public static Task<AgentClient> ConnectAsync(string unixSocketPath, CancellationToken cancellationToken = default) =>
        ConnectAsync(unixSocketPath, 1, cancellationToken);

    /// <summary>As <see cref="ConnectAsync(string, CancellationToken)"/>, the first call on stream <paramref name="firstStreamId"/>.</summary>
    public static async Task<AgentClient> ConnectAsync(string unixSocketPath, uint firstStreamId, CancellationToken cancellationToken) =>
        new(await TtrpcClient.ConnectAsync(unixSocketPath, TtrpcClientOptions.ForUntrustedPeer with { FirstStreamId = firstStreamId }, cancellationToken)
            .ConfigureAwait(false));

    /// <summary>
    /// Connects and calls Health.Check until the agent answers: for a VM that is booting, or a clone
    /// that is resuming. Connection failures (the socket not there yet, the VM not listening) and
    /// unanswered checks are retried until <paramref name="timeout"/>; then DeadlineExceeded.
    /// </summary>
    public static Task<AgentClient> WaitReadyAsync(string unixSocketPath, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitReadyAsync(unixSocketPath, timeout, 1, cancellationToken);

    /// <summary>As <see cref="WaitReadyAsync(string, TimeSpan, CancellationToken)"/>, the first call on stream <paramref name="firstStreamId"/>.</summary>
    public static async Task<AgentClient> WaitReadyAsync(string unixSocketPath, TimeSpan timeout, uint firstStreamId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new StencilException(ErrorKind.DeadlineExceeded,
                    $"the agent at {unixSocketPath} did not answer within {timeout.TotalSeconds:F1} s" + (last is null ? "" : $" (last error: {last.Message})"), last);
            }
            AgentClient? client = null;
            try
            {
                var connected = await ConnectAsync(unixSocketPath, firstStreamId, cancellationToken).ConfigureAwait(false);
                client = connected;
                // One long check per connection: a request sent before the agent opened its port
                // waits in the port's buffer and is answered as soon as the agent reads.
                while (DateTime.UtcNow < deadline)
                {
                    var attempt = TimeSpan.FromMilliseconds(Math.Min(2000, Math.Max(50, (deadline - DateTime.UtcNow).TotalMilliseconds)));
                    try
                    {
                        if (await connected.CheckAsync(attempt, cancellationToken).ConfigureAwait(false))
                        {
                            client = null;
                            return connected;
                        }
                    }
                    catch (StencilException ex) when (ex.Kind == ErrorKind.DeadlineExceeded)
                    {
                        last = ex;
                    }
                }
            }
            catch (StencilException ex) when (ex.Kind is ErrorKind.Unavailable or ErrorKind.NotFound or ErrorKind.DeadlineExceeded)
            {
                last = ex;
            }
            catch (SocketException ex)
            {
                last = ex;
            }
            catch (IOException ex)
            {
                last = ex;
            }
            finally
            {
                if (client is not null)
                    await client.DisposeAsync().ConfigureAwait(false);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    // --- health ------------------------------------------------------------------------------

    public Task<bool> CheckAsync(CancellationToken cancellationToken = default) => CheckAsync(CallTimeout, cancellationToken);

    public async Task<bool> CheckAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var r = await _client.CallAsync(AgentMethods.Check, new Proto.CheckRequest(), new TtrpcCallOptions { Timeout = timeout }, cancellationToken)
            .ConfigureAwait(false);
        return r.Status == Proto.CheckResponse.Types.ServingStatus.Serving;
    }

    public async Task<AgentVersionInfo> VersionAsync(CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.Version, new Proto.VersionRequest(), cancellationToken).ConfigureAwait(false);
        return new AgentVersionInfo(r.AgentVersion, r.ApiVersion);
    }

    // --- sandbox -----------------------------------------------------------------------------

    public Task CreateSandboxAsync(SandboxConfig config, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.CreateSandbox, ProtoMapping.ToProto(config), cancellationToken);

    /// <summary>Removes every container (killing what runs), unmounts the shared folder.</summary>
    public Task DestroySandboxAsync(CancellationToken cancellationToken = default) =>
        Call(AgentMethods.DestroySandbox, new Proto.DestroySandboxRequest(), cancellationToken);

    // --- containers --------------------------------------------------------------------------

    /// <summary>Mounts the storages, writes the bundle, runs the OCI runtime's create. Returns the init's pid in the guest.</summary>
    public async Task<int> CreateContainerAsync(ContainerConfig config, CancellationToken cancellationToken = default) =>
        (await CreateContainerTimedAsync(config, cancellationToken).ConfigureAwait(false)).Pid;

    /// <inheritdoc/>
    public async Task<CreatedContainer> CreateContainerTimedAsync(ContainerConfig config, CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.CreateContainer, ProtoMapping.ToProto(config), cancellationToken).ConfigureAwait(false);
        // From the guest: bounded (a hostile agent could send any number of steps) and only for a log line.
        var steps = r.Steps.Take(16).Select(s => (GuestText.Printable(s.Name, 32), s.Micros / 1000.0)).ToList();
        return new CreatedContainer(GuestPid(r.Pid, $"CreateContainer {config.Id}"), steps);
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.StartContainer, new Proto.ContainerRequest { ContainerId = containerId }, cancellationToken);

    /// <param name="force">Kill a running or paused container first; otherwise that is FailedPrecondition.</param>
    public Task RemoveContainerAsync(string containerId, bool force = false, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.RemoveContainer, new Proto.RemoveContainerRequest { ContainerId = containerId, Force = force }, cancellationToken);

    public Task PauseContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.PauseContainer, new Proto.ContainerRequest { ContainerId = containerId }, cancellationToken);

    public Task ResumeContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.ResumeContainer, new Proto.ContainerRequest { ContainerId = containerId }, cancellationToken);

    /// <param name="resourcesJson">An OCI LinuxResources object.</param>
    public Task UpdateContainerAsync(string containerId, ReadOnlyMemory<byte> resourcesJson, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.UpdateContainer,
            new Proto.UpdateContainerRequest { ContainerId = containerId, ResourcesJson = ByteString.CopyFrom(resourcesJson.Span) }, cancellationToken);

    public async Task<ContainerStatistics> StatsContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        ProtoMapping.FromProto(await Call(AgentMethods.StatsContainer, new Proto.ContainerRequest { ContainerId = containerId }, cancellationToken)
            .ConfigureAwait(false));

    public async Task<IReadOnlyList<GuestProcessInfo>> ListProcessesAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.ListProcesses, new Proto.ContainerRequest { ContainerId = containerId }, cancellationToken).ConfigureAwait(false);
        return [.. r.Processes.Select(p => new GuestProcessInfo(GuestPid(p.Pid, $"ListProcesses {containerId}"), [.. p.Args]))];
    }

    // --- processes ---------------------------------------------------------------------------

    /// <param name="processJson">An OCI Process object (terminal, args, env, cwd, user...).</param>
    public async Task<int> ExecProcessAsync(string containerId, string execId, ReadOnlyMemory<byte> processJson, CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.ExecProcess, new Proto.ExecProcessRequest
        {
            ContainerId = containerId,
            ExecId = execId,
            ProcessJson = ByteString.CopyFrom(processJson.Span),
        }, cancellationToken).ConfigureAwait(false);
        return GuestPid(r.Pid, $"ExecProcess {execId} of {containerId}");
    }

    /// <param name="execId">"" (or null) for the container's init process.</param>
    /// <param name="all">Every process of the container (init only).</param>
    public Task SignalProcessAsync(string containerId, string? execId, int signal, bool all = false, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.SignalProcess, new Proto.SignalProcessRequest
        {
            ContainerId = containerId,
            ExecId = execId ?? "",
            Signal = (uint)signal,
            All = all,
        }, cancellationToken);

    /// <summary>Waits for the process to exit (no timeout: cancel the token to stop waiting).</summary>
    public async Task<ProcessExit> WaitProcessAsync(string containerId, string? execId, CancellationToken cancellationToken = default)
    {
        var r = await Wait(AgentMethods.WaitProcess, Process(containerId, execId), cancellationToken).ConfigureAwait(false);
        return new ProcessExit(r.ExitCode, ProtoMapping.FromUnixNanos(r.ExitedAtUnixNano));
    }

    /// <summary>Writes to the process's stdin (its terminal, if it has one); waits while the pipe is full.</summary>
    public async Task<int> WriteStdinAsync(string containerId, string? execId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var r = await Wait(AgentMethods.WriteStdin, new Proto.WriteStreamRequest
        {
            ContainerId = containerId,
            ExecId = execId ?? "",
            Data = ByteString.CopyFrom(data.Span),
        }, cancellationToken).ConfigureAwait(false);
        return Written(r.Len, data.Length, $"WriteStdin to {What(containerId, execId)}");
    }

    /// <summary>
    /// Waits for output and returns what is there (up to <paramref name="maxLength"/>, at most 1 MiB);
    /// empty at end of stream. A process with a terminal has all its output on stdout.
    /// ttRPC 1.1 cannot cancel a call in the guest: a read cancelled here stays pending there, and
    /// the chunk it eventually takes is lost. Cancel only to stop reading a stream for good.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> ReadAsync(string containerId, string? execId, StdioStream stream, int maxLength = MaxReadChunk,
        CancellationToken cancellationToken = default)
    {
        var request = new Proto.ReadStreamRequest { ContainerId = containerId, ExecId = execId ?? "", MaxLen = (uint)Math.Clamp(maxLength, 1, MaxReadChunk) };
        var method = stream == StdioStream.Stdout ? AgentMethods.ReadStdout : AgentMethods.ReadStderr;
        var r = await Wait(method, request, cancellationToken).ConfigureAwait(false);
        return ReadData(r.Eof, r.Data, request.MaxLen, $"{method.Name} of {What(containerId, execId)}");
    }

    /// <summary>End of input: closes the stdin pipe (a terminal gets ^D instead).</summary>
    public Task CloseStdinAsync(string containerId, string? execId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.CloseStdin, Process(containerId, execId), cancellationToken);

    public Task ResizeTtyAsync(string containerId, string? execId, int rows, int columns, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.TtyWinResize, new Proto.TtyWinResizeRequest
        {
            ContainerId = containerId,
            ExecId = execId ?? "",
            Rows = (uint)rows,
            Columns = (uint)columns,
        }, cancellationToken);

    /// <summary>Waits for the next OOM kill in any container; returns the container's id.</summary>
    public async Task<string> GetOomEventAsync(CancellationToken cancellationToken = default) =>
        (await Wait(AgentMethods.GetOOMEvent, new Proto.GetOOMEventRequest(), cancellationToken).ConfigureAwait(false)).ContainerId;

    // --- guest -------------------------------------------------------------------------------

    /// <summary>Onlines hot-added vCPUs (waiting until <paramref name="wantCpus"/> are online) and memory blocks.</summary>
    public async Task<CpuMemOnlineResult> OnlineCpuMemAsync(int wantCpus = 0, bool cpuOnly = false, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.OnlineCPUMem, new Proto.OnlineCPUMemRequest
        {
            NbCpus = (uint)Math.Max(0, wantCpus),
            CpuOnly = cpuOnly,
            TimeoutMs = (uint)(timeout?.TotalMilliseconds ?? 0),
        }, cancellationToken).ConfigureAwait(false);
        return new CpuMemOnlineResult((int)r.CpusOnline, (int)r.CpusOnlined, (int)r.MemoryBlocksOnlined, r.MemoryTotalBytes);
    }

    /// <summary>Mixes host random bytes (e.g. 512 from /dev/urandom) into the guest's RNG and reseeds it.</summary>
    public Task ReseedRandomDevAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.ReseedRandomDev, new Proto.ReseedRandomDevRequest { Data = ByteString.CopyFrom(data.Span) }, cancellationToken);

    public Task SetGuestDateTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var (sec, nsec) = ProtoMapping.ToUnix(time);
        return Call(AgentMethods.SetGuestDateTime, new Proto.SetGuestDateTimeRequest { Sec = sec, Nsec = nsec }, cancellationToken);
    }

    /// <summary>The agent runs its OCI runtime once on a throw-away container (a VM made ahead of its pod); returns the time it took in the guest.</summary>
    public async Task<TimeSpan> WarmUpAsync(CancellationToken cancellationToken = default) =>
        TimeSpan.FromTicks((long)Math.Min((await Call(AgentMethods.WarmUp, new Proto.WarmUpRequest(), cancellationToken).ConfigureAwait(false)).Micros, 3_600_000_000UL) * 10);

    public async Task<GuestDetails> GetGuestDetailsAsync(CancellationToken cancellationToken = default)
    {
        var d = await Call(AgentMethods.GetGuestDetails, new Proto.GetGuestDetailsRequest(), cancellationToken).ConfigureAwait(false);
        // Linux memory blocks are a power of two from 1 MiB to 2 GiB (0: the guest has no memory hotplug).
        if (d.MemoryBlockSizeBytes != 0 && (!ulong.IsPow2(d.MemoryBlockSizeBytes) || d.MemoryBlockSizeBytes is < 1UL << 20 or > 2UL << 30))
            throw Broken($"GetGuestDetails answered a memory block size of {d.MemoryBlockSizeBytes} bytes");
        return ProtoMapping.FromProto(d);
    }

    // --- network -----------------------------------------------------------------------------

    public async Task<NetworkInterface> UpdateInterfaceAsync(NetworkInterface wanted, CancellationToken cancellationToken = default) =>
        FromGuest(await Call(AgentMethods.UpdateInterface, new Proto.UpdateInterfaceRequest { Interface = ProtoMapping.ToProto(wanted) },
            cancellationToken).ConfigureAwait(false), "UpdateInterface");

    /// <summary>Replaces the routes set by an earlier call with these.</summary>
    public async Task<IReadOnlyList<NetworkRoute>> UpdateRoutesAsync(IReadOnlyList<NetworkRoute> routes, CancellationToken cancellationToken = default)
    {
        var request = new Proto.UpdateRoutesRequest();
        request.Routes.AddRange(routes.Select(ProtoMapping.ToProto));
        var r = await Call(AgentMethods.UpdateRoutes, request, cancellationToken).ConfigureAwait(false);
        return [.. r.Routes_.Select(ProtoMapping.FromProto)];
    }

    public async Task<IReadOnlyList<NetworkInterface>> ListInterfacesAsync(CancellationToken cancellationToken = default)
    {
        var r = await Call(AgentMethods.ListInterfaces, new Proto.ListInterfacesRequest(), cancellationToken).ConfigureAwait(false);
        return [.. r.Interfaces_.Select(i => FromGuest(i, "ListInterfaces"))];
    }

    // --- port forwarding -----------------------------------------------------------------------

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/> inside the guest (the pod's network) and returns the
    /// stream's id for the calls below. Nothing listening there is Unavailable ("connection refused to
    /// 127.0.0.1:PORT in the pod"). The stream lives until <see cref="PortForwardCloseAsync"/> or DestroySandbox.
    /// </summary>
    public async Task<ulong> PortForwardOpenAsync(int port, CancellationToken cancellationToken = default)
    {
        if (port is <= 0 or > ushort.MaxValue)
            throw StencilException.InvalidArgument($"port {port} is out of range (1-65535)");
        var r = await Call(AgentMethods.PortForwardOpen, new Proto.PortForwardOpenRequest { Port = (uint)port }, cancellationToken).ConfigureAwait(false);
        return r.StreamId;
    }

    /// <summary>Sends the bytes to the guest's server; waits while its socket buffer is full.</summary>
    public async Task<int> PortForwardWriteAsync(ulong streamId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var r = await Wait(AgentMethods.PortForwardWrite,
            new Proto.PortForwardWriteRequest { StreamId = streamId, Data = ByteString.CopyFrom(data.Span) }, cancellationToken).ConfigureAwait(false);
        return Written(r.Len, data.Length, $"PortForwardWrite on stream {streamId}");
    }

    /// <summary>
    /// Waits for what the guest's server sends (up to <paramref name="maxLength"/>, at most 1 MiB); empty
    /// when it has ended its side or the stream was closed. As with stdio reads, a read cancelled here
    /// stays pending in the guest until data comes or the stream is closed: close the stream after cancelling.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> PortForwardReadAsync(ulong streamId, int maxLength = MaxReadChunk, CancellationToken cancellationToken = default)
    {
        var request = new Proto.PortForwardReadRequest { StreamId = streamId, MaxLen = (uint)Math.Clamp(maxLength, 1, MaxReadChunk) };
        var r = await Wait(AgentMethods.PortForwardRead, request, cancellationToken).ConfigureAwait(false);
        return ReadData(r.Eof, r.Data, request.MaxLen, $"PortForwardRead on stream {streamId}");
    }

    /// <summary>Half-close: the guest's server reads end of file; what it still sends can be read.</summary>
    public Task PortForwardCloseWriteAsync(ulong streamId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.PortForwardCloseWrite, new Proto.PortForwardStreamRequest { StreamId = streamId }, cancellationToken);

    /// <summary>Closes the connection in the guest and forgets the stream; a pending read returns empty.</summary>
    public Task PortForwardCloseAsync(ulong streamId, CancellationToken cancellationToken = default) =>
        Call(AgentMethods.PortForwardClose, new Proto.PortForwardStreamRequest { StreamId = streamId }, cancellationToken);

    public void Disconnect(string reason) => _client.Disconnect(reason);

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    /// <summary>Closes the link for a reply that breaks the agent's contract; the call that got it fails with this.</summary>
    private StencilException Broken(string what)
    {
        _client.Abort($"the agent {what}");
        return StencilException.Internal($"the agent broke its contract: {what}");
    }

    /// <summary>A guest pid: 1 to Linux's PID_MAX_LIMIT (4194304).</summary>
    private int GuestPid(uint pid, string call) =>
        pid is >= 1 and <= 4_194_304 ? (int)pid : throw Broken($"{call} answered pid {pid}");

    /// <summary>A write's count: some of what was sent, and something when anything was (the caller loops until all is written).</summary>
    private int Written(uint written, int sent, string call) =>
        written <= (uint)sent && (written > 0 || sent == 0) ? (int)written : throw Broken($"{call} answered {written} bytes written of {sent}");

    private ReadOnlyMemory<byte> ReadData(bool eof, ByteString data, uint maxLength, string call)
    {
        if (data.Length > maxLength)
            throw Broken($"{call} answered {data.Length} bytes to a read of at most {maxLength}");
        if (!eof && data.Length == 0)
            throw Broken($"{call} answered no bytes and no end of stream"); // a caller would ask again at once, forever
        return eof ? ReadOnlyMemory<byte>.Empty : data.Memory;
    }

    private NetworkInterface FromGuest(Proto.Interface i, string call) =>
        ProtoMapping.TryFromProto(i) ?? throw Broken($"{call} answered an interface with an address that is not one ({GuestText.Printable(
            string.Join(", ", i.Addresses.Select(a => $"{a.Address}/{a.PrefixLength}")), 200)})");

    private static string What(string containerId, string? execId) =>
        string.IsNullOrEmpty(execId) ? $"container {containerId}" : $"exec {execId} of container {containerId}";

    private static Proto.ProcessRequest Process(string containerId, string? execId) => new() { ContainerId = containerId, ExecId = execId ?? "" };

    private Task<TResponse> Call<TRequest, TResponse>(TtrpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        _client.CallAsync(method, request, new TtrpcCallOptions { Timeout = CallTimeout }, cancellationToken);

    private Task<TResponse> Wait<TRequest, TResponse>(TtrpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        _client.CallAsync(method, request, null, cancellationToken);
}
