using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Stencil.Protocols.Containerd.VersionService;

namespace Stencil.Containerd;

/// <summary>
/// Asks a running containerd its version over its gRPC socket (containerd.services.version.v1.Version,
/// what `ctr version` calls). One call, one connection, a deadline; never throws for an absent or
/// silent containerd: the answer is then null and the caller decides.
/// </summary>
public static class ContainerdVersionClient
{
    private static readonly Method<Empty, VersionResponse> s_version = new(
        MethodType.Unary, "containerd.services.version.v1.Version", "Version",
        Marshallers.Create(static m => m.ToByteArray(), static b => Empty.Parser.ParseFrom(b)),
        Marshallers.Create(static m => m.ToByteArray(), static b => VersionResponse.Parser.ParseFrom(b)));

    /// <param name="socketPath">containerd's gRPC socket ("unix://" prefix allowed).</param>
    /// <returns>The version, or null when nothing answered within <paramref name="timeout"/> or the
    /// answer names no version; Error then says why.</returns>
    public static async Task<(ContainerdVersion? Version, string? Error)> QueryAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var path = socketPath.StartsWith("unix://", StringComparison.Ordinal) ? socketPath["unix://".Length..] : socketPath;
        if (!File.Exists(path))
            return (null, $"no socket at {path}");
        using var channel = UnixSocketChannel.Create(path);
        try
        {
            var reply = await channel.CreateCallInvoker()
                .AsyncUnaryCall(s_version, null, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken), new Empty())
                .ResponseAsync.ConfigureAwait(false);
            var version = ContainerdVersion.TryParse(reply.Version);
            return version is null ? (null, $"containerd at {path} answered version \"{reply.Version}\"") : (version, null);
        }
        catch (RpcException ex)
        {
            return (null, $"containerd at {path} did not answer its version service: {ex.Status.StatusCode} {ex.Status.Detail}");
        }
    }
}
