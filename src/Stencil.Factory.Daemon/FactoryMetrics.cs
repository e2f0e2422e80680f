using System.Globalization;
using System.Text;

namespace Stencil.Factory.Daemon;

/// <summary>
/// The daemon's counters and its hand-over latency histogram, and their Prometheus text exposition
/// (format 0.0.4, as kata-monitor serves Kata's). Thread-safe; <see cref="Render"/> is a pure
/// function of a <see cref="Snapshot"/>.
/// </summary>
public sealed class FactoryMetrics
{
    /// <summary>Upper bounds (seconds) of the hand-over histogram's buckets.</summary>
    public static readonly double[] HandOverBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Lock _gate = new();
    private readonly long[] _bucketCounts = new long[HandOverBuckets.Length];
    private long _handOvers;
    private double _handOverSecondsSum;
    private long _emptyPool;
    private long _templateMismatch;
    private long _settingsMismatch;
    private long _failed;
    private long _staleDiscarded;

    /// <summary>A clone handed over, <paramref name="elapsed"/> from request to answer.</summary>
    public void HandedOver(TimeSpan elapsed)
    {
        lock (_gate)
        {
            _handOvers++;
            _handOverSecondsSum += elapsed.TotalSeconds;
            for (var i = 0; i < HandOverBuckets.Length; i++)
            {
                if (elapsed.TotalSeconds <= HandOverBuckets[i])
                    _bucketCounts[i]++;
            }
        }
    }

    /// <summary>A request not served: the asker clones the template itself (a fallback to a local clone).</summary>
    public void NotServed(NotServedReason reason)
    {
        lock (_gate)
        {
            switch (reason)
            {
                case NotServedReason.PoolEmpty: _emptyPool++; break;
                case NotServedReason.TemplateMismatch: _templateMismatch++; break;
                case NotServedReason.SettingsMismatch: _settingsMismatch++; break;
                default: _failed++; break;
            }
        }
    }

    public void StaleDiscarded(int count)
    {
        lock (_gate)
            _staleDiscarded += count;
    }

    public Snapshot Take(int poolSize, int ready, double? templateBuildSeconds)
    {
        lock (_gate)
        {
            return new Snapshot(poolSize, ready, _handOvers, _handOverSecondsSum, [.. _bucketCounts], _emptyPool, _templateMismatch, _settingsMismatch,
                _failed, _staleDiscarded, templateBuildSeconds);
        }
    }

    /// <summary>The figures at one moment.</summary>
    public sealed record Snapshot(int PoolSize, int Ready, long HandOvers, double HandOverSecondsSum, long[] BucketCounts, long EmptyPool,
        long TemplateMismatch, long SettingsMismatch, long Failed, long StaleDiscarded, double? TemplateBuildSeconds);

    /// <summary>Prometheus text exposition of <paramref name="s"/>.</summary>
    public static string Render(Snapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        Gauge(b, "stencil_factory_pool_size", "Paused clones the pool keeps.", s.PoolSize);
        Gauge(b, "stencil_factory_pool_ready", "Paused clones ready now.", s.Ready);
        b.Append("# HELP stencil_factory_handovers_total Clones handed over to shims.\n# TYPE stencil_factory_handovers_total counter\n");
        b.Append("stencil_factory_handovers_total ").Append(Number(s.HandOvers)).Append('\n');
        b.Append("# HELP stencil_factory_not_served_total Requests answered without a clone (the shim then clones the template itself), by reason.\n");
        b.Append("# TYPE stencil_factory_not_served_total counter\n");
        b.Append("stencil_factory_not_served_total{reason=\"pool_empty\"} ").Append(Number(s.EmptyPool)).Append('\n');
        b.Append("stencil_factory_not_served_total{reason=\"template_mismatch\"} ").Append(Number(s.TemplateMismatch)).Append('\n');
        b.Append("stencil_factory_not_served_total{reason=\"settings_mismatch\"} ").Append(Number(s.SettingsMismatch)).Append('\n');
        b.Append("stencil_factory_not_served_total{reason=\"failed\"} ").Append(Number(s.Failed)).Append('\n');
        b.Append("# HELP stencil_factory_stale_clones_discarded_total Ready clones discarded because the template changed.\n");
        b.Append("# TYPE stencil_factory_stale_clones_discarded_total counter\n");
        b.Append("stencil_factory_stale_clones_discarded_total ").Append(Number(s.StaleDiscarded)).Append('\n');
        b.Append("# HELP stencil_factory_handover_seconds Time from a shim's request to the clone detached and answered.\n");
        b.Append("# TYPE stencil_factory_handover_seconds histogram\n");
        for (var i = 0; i < HandOverBuckets.Length; i++)
        {
            b.Append("stencil_factory_handover_seconds_bucket{le=\"").Append(Number(HandOverBuckets[i])).Append("\"} ")
                .Append(Number(s.BucketCounts[i])).Append('\n');
        }
        b.Append("stencil_factory_handover_seconds_bucket{le=\"+Inf\"} ").Append(Number(s.HandOvers)).Append('\n');
        b.Append("stencil_factory_handover_seconds_sum ").Append(Number(Math.Round(s.HandOverSecondsSum, 6))).Append('\n');
        b.Append("stencil_factory_handover_seconds_count ").Append(Number(s.HandOvers)).Append('\n');
        if (s.TemplateBuildSeconds is { } build)
            Gauge(b, "stencil_factory_template_build_seconds", "How long the current template took to build.", build);
        return b.ToString();
    }

    private static void Gauge(StringBuilder b, string name, string help, double value) =>
        b.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n")
            .Append(name).Append(' ').Append(Number(value)).Append('\n');

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Why a request got no clone.</summary>
public enum NotServedReason
{
    PoolEmpty,
    TemplateMismatch,
    /// <summary>Same template, but the asker's QEMU process settings (TCG code buffer, seccomp, capabilities, KSM) are not the pool's.</summary>
    SettingsMismatch,
    Failed,
}
