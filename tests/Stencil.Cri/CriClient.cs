using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Stencil.Containerd;
using Stencil.Cri.V1;

namespace Stencil.Cri;

/// <summary>
/// A CRI v1 client over containerd's unix socket (the CRI plugin serves runtime.v1 on containerd's
/// gRPC address). gRPC needs HTTP/2; over a unix socket there is no TLS, so the channel speaks
/// HTTP/2 with prior knowledge to the placeholder authority http://localhost, and every connection
/// is made by <see cref="SocketsHttpHandler.ConnectCallback"/> to the socket instead of TCP.
/// Each call gets <see cref="CallTimeout"/> as its deadline unless a caller's token ends it sooner.
/// </summary>
public sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    private CriClient(string socketPath, GrpcChannel channel, TimeSpan callTimeout)
    {
        SocketPath = socketPath;
        _channel = channel;
        CallTimeout = callTimeout;
        Runtime = new RuntimeService.RuntimeServiceClient(channel);
        Images = new ImageService.ImageServiceClient(channel);
    }

    public string SocketPath { get; }

    public TimeSpan CallTimeout { get; }

    /// <summary>The generated stubs, for calls the helpers below do not cover.</summary>
    public RuntimeService.RuntimeServiceClient Runtime { get; }

    public ImageService.ImageServiceClient Images { get; }

    /// <summary>A client for the socket at <paramref name="socketPath"/>. Nothing is sent until the first call.</summary>
    public static CriClient Connect(string socketPath, TimeSpan? callTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var channel = UnixSocketChannel.Create(socketPath, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 });
        return new CriClient(socketPath, channel, callTimeout ?? TimeSpan.FromSeconds(60));
    }

    // ---- runtime ------------------------------------------------------------------------------

    public async Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        await Runtime.VersionAsync(new VersionRequest { Version = "v1" }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default) =>
        await Runtime.StatusAsync(new StatusRequest { Verbose = verbose }, Options(cancellationToken)).ConfigureAwait(false);

    // ---- pod sandboxes ------------------------------------------------------------------------

    /// <summary>Creates and starts a pod sandbox with the runtime handler (a runtime name in containerd's
    /// CRI config: "runc", "stencil"; "" = the default runtime) and returns its id.</summary>
    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await Runtime.RunPodSandboxAsync(
            new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler ?? "" }, Options(cancellationToken)).ConfigureAwait(false);
        return response.PodSandboxId;
    }

    public async Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podSandboxId }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podSandboxId }, Options(cancellationToken)).ConfigureAwait(false);

    /// <summary>The sandbox's status; with <paramref name="verbose"/>, Info["info"] holds the runtime's JSON
    /// (containerd: pid, netns path, runtime handler, the sandbox's OCI spec).</summary>
    public async Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default) =>
        await Runtime.PodSandboxStatusAsync(
            new PodSandboxStatusRequest { PodSandboxId = podSandboxId, Verbose = verbose }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = filter }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Items;
    }

    // ---- containers ---------------------------------------------------------------------------

    /// <summary>Creates a container in a pod and returns its id. <paramref name="sandboxConfig"/> must be
    /// the config the pod was run with (containerd takes the log directory and more from it).</summary>
    public async Task<string> CreateContainerAsync(
        string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default)
    {
        var response = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = podSandboxId,
            Config = config,
            SandboxConfig = sandboxConfig,
        }, Options(cancellationToken)).ConfigureAwait(false);
        return response.ContainerId;
    }

    public async Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, Options(cancellationToken)).ConfigureAwait(false);

    /// <summary>Sends the stop signal, then SIGKILL after <paramref name="gracePeriod"/> (whole seconds;
    /// zero kills at once).</summary>
    public async Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken cancellationToken = default) =>
        await Runtime.StopContainerAsync(new StopContainerRequest
        {
            ContainerId = containerId,
            Timeout = (long)Math.Ceiling(gracePeriod.TotalSeconds),
        }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<ContainerStatus> ContainerStatusAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Status;
    }

    public async Task<IReadOnlyList<Container>> ListContainersAsync(string? podSandboxId = null, CancellationToken cancellationToken = default)
    {
        var filter = podSandboxId is null ? null : new ContainerFilter { PodSandboxId = podSandboxId };
        var response = await Runtime.ListContainersAsync(new ListContainersRequest { Filter = filter }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Containers;
    }

    /// <summary>Runs <paramref name="command"/> in the container and waits for it (the runtime kills it
    /// after <paramref name="timeout"/>, whole seconds; zero = no limit).</summary>
    public async Task<ExecSyncResult> ExecSyncAsync(
        string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = (long)Math.Ceiling(timeout.TotalSeconds) };
        request.Cmd.AddRange(command);
        // The call may take as long as the command is allowed to: give the deadline that much more.
        var deadline = DateTime.UtcNow + CallTimeout + (timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero);
        var response = await Runtime.ExecSyncAsync(request, new CallOptions(deadline: deadline, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new ExecSyncResult(response.ExitCode, response.Stdout.ToByteArray(), response.Stderr.ToByteArray());
    }

    public async Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = containerId }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Stats;
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(string? podSandboxId = null, CancellationToken cancellationToken = default)
    {
        var filter = podSandboxId is null ? null : new ContainerStatsFilter { PodSandboxId = podSandboxId };
        var response = await Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = filter }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Stats;
    }

    public async Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default) =>
        await Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = containerId }, Options(cancellationToken)).ConfigureAwait(false);

    // ---- images -------------------------------------------------------------------------------

    public async Task<IReadOnlyList<Image>> ListImagesAsync(CancellationToken cancellationToken = default)
    {
        var response = await Images.ListImagesAsync(new ListImagesRequest(), Options(cancellationToken)).ConfigureAwait(false);
        return response.Images;
    }

    /// <summary>The image by reference ("docker.io/library/busybox:latest", or an id), or null when the
    /// runtime does not have it (CRI answers an empty response, not NotFound).</summary>
    public async Task<Image?> ImageStatusAsync(string image, CancellationToken cancellationToken = default)
    {
        var response = await Images.ImageStatusAsync(
            new ImageStatusRequest { Image = new ImageSpec { Image = image } }, Options(cancellationToken)).ConfigureAwait(false);
        return response.Image;
    }

    public async Task RemoveImageAsync(string image, CancellationToken cancellationToken = default) =>
        await Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image } }, Options(cancellationToken)).ConfigureAwait(false);

    public void Dispose() => _channel.Dispose();

    private CallOptions Options(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
}
