using System.Diagnostics;
using Grpc.Core;
using Stencil.Protocols.Factory;

namespace Stencil.Factory.Daemon;

/// <summary>
/// The gRPC face of the daemon: protobuf in, <see cref="VmFactory"/> calls, protobuf out. Protobuf
/// types stop here. A request is never made to wait for a clone to be made: an empty pool answers
/// "not served" at once and the shim clones the template itself.
/// </summary>
internal sealed class FactoryGrpcService : Protocols.Factory.Factory.FactoryBase
{
    private readonly DaemonState _state;

    public FactoryGrpcService(DaemonState state) => _state = state;

    public override async Task<TakeCloneResponse> TakeClone(TakeCloneRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var clock = Stopwatch.StartNew();
        var requester = string.IsNullOrEmpty(request.Requester) ? "a shim" : Bounded(request.Requester);
        if (string.IsNullOrEmpty(request.TemplateFingerprint))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "template_fingerprint is empty"));
        var current = _state.CurrentFingerprint;
        if (current is not null && request.TemplateFingerprint != current)
        {
            _state.Metrics.NotServed(NotServedReason.TemplateMismatch);
            var reason = $"template differs: the daemon's configuration makes {current}, {requester}'s makes {Bounded(request.TemplateFingerprint)}";
            _state.Log.Info($"not serving {requester}: {reason}");
            return new TakeCloneResponse { Served = false, Reason = reason };
        }
        // The template's saved state does not hold these: a clone started with the daemon's settings would give the asker a
        // QEMU with another TCG code buffer, seccomp filter, capability set or KSM marking than its configuration asks for.
        var settings = _state.ProcessSettings;
        if (request.ProcessSettings.Length > 0 && request.ProcessSettings != settings)
        {
            _state.Metrics.NotServed(NotServedReason.SettingsMismatch);
            var reason = $"QEMU process settings differ: {SettingsDifferences(settings, request.ProcessSettings, requester)}";
            _state.Log.Info($"not serving {requester}: {reason}");
            return new TakeCloneResponse { Served = false, Reason = reason };
        }
        HandedOverClone? clone;
        try
        {
            clone = await _state.Factory.TryHandOutAsync(request.TemplateFingerprint, requester, context.CancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _state.Metrics.NotServed(NotServedReason.Failed);
            _state.Log.Warning($"not serving {requester}: {ex.Message}");
            return new TakeCloneResponse { Served = false, Reason = ex.Message };
        }
        if (clone is null)
        {
            _state.Metrics.NotServed(NotServedReason.PoolEmpty);
            var pool = _state.Factory.Pool;
            var reason = $"no clone ready (pool of {pool?.Size ?? 0}, refilling)";
            _state.Log.Info($"not serving {requester}: {reason}");
            return new TakeCloneResponse { Served = false, Reason = reason };
        }
        _state.Metrics.HandedOver(clock.Elapsed);
        _state.Log.Info($"handed clone {clone.Name} (qemu pid {clone.ProcessId}) to {requester} in {clock.Elapsed.TotalMilliseconds:F1} ms");
        return new TakeCloneResponse
        {
            Served = true,
            Name = clone.Name,
            Pid = clone.ProcessId,
            Directory = clone.Directory,
            SharedDirectory = clone.SharedDirectory,
            TemplateFingerprint = clone.TemplateFingerprint,
        };
    }

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var pool = _state.Factory.Pool;
        var snapshot = _state.Metrics.Take(pool?.Size ?? 0, pool?.ReadyCount ?? 0, null);
        return Task.FromResult(new StatusResponse
        {
            TemplateFingerprint = _state.CurrentFingerprint ?? "",
            PoolSize = snapshot.PoolSize,
            Ready = snapshot.Ready,
            HandedOver = (ulong)snapshot.HandOvers,
            NotServed = (ulong)(snapshot.EmptyPool + snapshot.TemplateMismatch + snapshot.Failed),
        });
    }

    /// <summary>
    /// "tcg translation cache: the daemon's qemu default, pod x's 16 MiB" for each "name: value" item of the two
    /// "; "-separated texts that differs (both whole when they do not split alike); the asker's values are
    /// bounded in the text, not before the comparison. Pure.
    /// </summary>
    internal static string SettingsDifferences(string daemon, string asker, string requester)
    {
        static List<(string Name, string Value)> Items(string text) =>
            [.. text.Split("; ").Select(i => i.Split(": ", 2)).Select(p => p.Length == 2 ? (p[0], p[1]) : ("", p[0]))];
        var mine = Items(daemon);
        var theirs = Items(asker);
        if (mine.Count != theirs.Count || mine.Zip(theirs).Any(p => p.First.Name != p.Second.Name || p.First.Name.Length == 0))
            return $"the daemon's clones run with \"{daemon}\", {requester} asks for \"{Bounded(asker)}\"";
        return string.Join("; ", mine.Zip(theirs).Where(p => p.First.Value != p.Second.Value)
            .Select(p => $"{p.First.Name}: the daemon's {p.First.Value}, {requester}'s {Bounded(p.Second.Value)}"));
    }

    /// <summary>What a peer sends is logged bounded.</summary>
    private static string Bounded(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
