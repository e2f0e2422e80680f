using Grpc.Core;
using Stencil.Containerd;
using Stencil.Protocols.Factory;

namespace Stencil.Factory.Client;

/// <summary>
/// Asks the node's factory daemon for a paused clone. Never throws for a daemon that is absent,
/// dead or silent (a stale socket file, a refused connection, a deadline): the answer is then no
/// clone and a reason, and the caller clones the template itself. The reply comes from another
/// process and is checked before use: absolute paths, a positive pid, the fingerprint asked for.
/// </summary>
public static class FactoryDaemonClient
{
    /// <summary>What one request got: a clone, or why not.</summary>
    public sealed record Answer(HandedOverClone? Handed, string? Reason);

    public static async Task<Answer> TakeCloneAsync(string socketPath, string templateFingerprint, string processSettings, string requester, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentException.ThrowIfNullOrEmpty(templateFingerprint);
        if (!File.Exists(socketPath))
            return new Answer(null, $"no factory daemon (no socket at {socketPath})");
        using var channel = UnixSocketChannel.Create(socketPath);
        var client = new Protocols.Factory.Factory.FactoryClient(channel);
        TakeCloneResponse reply;
        try
        {
            reply = await client.TakeCloneAsync(new TakeCloneRequest { TemplateFingerprint = templateFingerprint, ProcessSettings = processSettings, Requester = requester },
                new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new Answer(null, $"the factory daemon at {socketPath} did not answer: {ex.Status.StatusCode} {ex.Status.Detail}");
        }
        if (!reply.Served)
            return new Answer(null, $"the factory daemon had no clone: {Bounded(reply.Reason)}");
        return Check(reply, templateFingerprint) is { } problem
            ? new Answer(null, $"the factory daemon's answer was refused: {problem}")
            : new Answer(new HandedOverClone(reply.Name, reply.Pid, reply.Directory, reply.SharedDirectory, reply.TemplateFingerprint), null);
    }

    /// <summary>Why a served reply cannot be used, or null. Pure: tested without a daemon.</summary>
    internal static string? Check(TakeCloneResponse reply, string templateFingerprint)
    {
        if (reply.Pid <= 1)
            return $"pid {reply.Pid}";
        if (reply.TemplateFingerprint != templateFingerprint)
            return $"a clone of template {Bounded(reply.TemplateFingerprint)} for a request of {templateFingerprint}";
        if (!Clean(reply.Directory))
            return $"clone folder \"{Bounded(reply.Directory)}\" is not a clean absolute path";
        if (!Clean(reply.SharedDirectory) || !reply.SharedDirectory.StartsWith(reply.Directory + "/", StringComparison.Ordinal))
            return $"shared folder \"{Bounded(reply.SharedDirectory)}\" is not inside the clone folder";
        // The socket paths inside it must fit in sun_path (108 bytes).
        if (reply.Directory.Length > 90)
            return $"clone folder \"{Bounded(reply.Directory)}\" is too long for its sockets";
        return null;
    }

    private static bool Clean(string path) =>
        path.StartsWith('/') && !path.Contains('\0', StringComparison.Ordinal) && path.Split('/').All(p => p is not ".." and not ".");

    private static string Bounded(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
