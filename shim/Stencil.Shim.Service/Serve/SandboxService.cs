using System.Runtime.InteropServices;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Sandbox;
using Stencil.Runtime;
using Stencil.Shim.Logging;
using Stencil.Ttrpc;
using static Stencil.Shim.Serve.TaskConversions;
using ProtoPlatform = Stencil.Protocols.Containerd.Types.Platform;

namespace Stencil.Shim.Serve;

/// <summary>
/// containerd.runtime.sandbox.v1.Sandbox over ttRPC, which containerd 2.x's CRI plugin calls for a runtime
/// configured with `sandboxer = "shim"`: the shim is the pod's sandbox (its VM) and no pause container is run.
/// Each method converts the request (<see cref="SandboxConversions"/>), calls the pod runtime and converts
/// the answer back; errors are the runtime's StencilExceptions, mapped to status codes by the ttRPC server.
/// </summary>
internal sealed class SandboxService
{
    public const string ServiceName = "containerd.runtime.sandbox.v1.Sandbox";

    private static readonly TtrpcMethod<CreateSandboxRequest, CreateSandboxResponse> s_create = new(ServiceName, "CreateSandbox");
    private static readonly TtrpcMethod<StartSandboxRequest, StartSandboxResponse> s_start = new(ServiceName, "StartSandbox");
    private static readonly TtrpcMethod<PlatformRequest, PlatformResponse> s_platform = new(ServiceName, "Platform");
    private static readonly TtrpcMethod<StopSandboxRequest, StopSandboxResponse> s_stop = new(ServiceName, "StopSandbox");
    private static readonly TtrpcMethod<WaitSandboxRequest, WaitSandboxResponse> s_wait = new(ServiceName, "WaitSandbox");
    private static readonly TtrpcMethod<SandboxStatusRequest, SandboxStatusResponse> s_status = new(ServiceName, "SandboxStatus");
    private static readonly TtrpcMethod<PingRequest, PingResponse> s_ping = new(ServiceName, "PingSandbox");
    private static readonly TtrpcMethod<ShutdownSandboxRequest, ShutdownSandboxResponse> s_shutdown = new(ServiceName, "ShutdownSandbox");
    private static readonly TtrpcMethod<SandboxMetricsRequest, SandboxMetricsResponse> s_metrics = new(ServiceName, "SandboxMetrics");

    private readonly IPodSandboxRuntime _runtime;
    private readonly ShimLog _log;
    private readonly Action _shutdown;

    /// <param name="shutdown">Asks the daemon to stop serving and exit (after this reply has gone out).</param>
    public SandboxService(IPodSandboxRuntime runtime, ShimLog log, Action shutdown)
    {
        _runtime = runtime;
        _log = log;
        _shutdown = shutdown;
    }

    public void Register(TtrpcServer server)
    {
        server.Register(s_create, (r, c) => Call("CreateSandbox", r.SandboxId, async () =>
        {
            await _runtime.CreateSandboxAsync(SandboxConversions.ToRequest(r), c.CancellationToken).ConfigureAwait(false);
            return new CreateSandboxResponse();
        }));
        server.Register(s_start, (r, c) => Call("StartSandbox", r.SandboxId, async () =>
        {
            var started = await _runtime.StartSandboxAsync(r.SandboxId, c.CancellationToken).ConfigureAwait(false);
            return new StartSandboxResponse { Pid = started.Pid, CreatedAt = Timestamp.FromDateTimeOffset(started.CreatedAt) };
        }));
        server.Register(s_platform, (r, c) => Call("Platform", r.SandboxId, () =>
        {
            _runtime.SandboxStatus(r.SandboxId, verbose: false); // NotFound for another id
            return Task.FromResult(new PlatformResponse { Platform = HostPlatform() });
        }));
        server.Register(s_stop, (r, c) => Call("StopSandbox", r.SandboxId, async () =>
        {
            await _runtime.StopSandboxAsync(r.SandboxId, c.CancellationToken).ConfigureAwait(false);
            return new StopSandboxResponse();
        }));
        server.Register(s_wait, (r, c) => Call("WaitSandbox", r.SandboxId, async () =>
        {
            var exit = await _runtime.WaitSandboxAsync(r.SandboxId, c.CancellationToken).ConfigureAwait(false);
            return new WaitSandboxResponse { ExitStatus = exit.ExitCode, ExitedAt = ToTimestamp(exit.ExitedAt) };
        }));
        server.Register(s_status, (r, c) => Call("SandboxStatus", r.SandboxId, () =>
            Task.FromResult(SandboxConversions.ToStatus(_runtime.SandboxStatus(r.SandboxId, r.Verbose)))));
        server.Register(s_ping, (r, c) => Call("PingSandbox", r.SandboxId, () =>
        {
            _runtime.SandboxStatus(r.SandboxId, verbose: false);
            return Task.FromResult(new PingResponse());
        }));
        server.Register(s_shutdown, (r, c) => Call("ShutdownSandbox", r.SandboxId, async () =>
        {
            await _runtime.ShutdownSandboxAsync(r.SandboxId, c.CancellationToken).ConfigureAwait(false);
            _shutdown();
            return new ShutdownSandboxResponse();
        }));
        server.Register(s_metrics, (r, c) => Call<SandboxMetricsResponse>("SandboxMetrics", r.SandboxId, () =>
            throw StencilException.Unimplemented(
                "sandbox metrics are not served by stencil: CRI reads a pod's figures from its cgroup and its containers' Stats")));
    }

    /// <summary>The platform containers of the pod run on: the guest's, which is the host's architecture (no emulation of another).</summary>
    internal static ProtoPlatform HostPlatform() => new()
    {
        Os = "linux",
        Architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.S390x => "s390x",
            Architecture.Ppc64le => "ppc64le",
            var other => other.ToString().ToLowerInvariant(),
        },
    };

    private Task<T> Call<T>(string method, string id, Func<Task<T>> body) => ServiceCall.RunAsync(_log, method, ("sandbox", id), body);
}
