namespace Stencil.Factory.Daemon;

/// <summary>Where and how the factory daemon serves.</summary>
public sealed record FactoryDaemonOptions
{
    /// <summary>The gRPC socket shims ask for clones ([factory] daemon_socket). Created 0600.</summary>
    public required string SocketPath { get; init; }

    /// <summary>Prometheus text metrics over HTTP/1.1 on this unix socket (GET /metrics); null: none. Created 0600.</summary>
    public string? MetricsSocketPath { get; init; }

    /// <summary>How often the daemon recomputes the template fingerprint (configuration and guest image files) to drain stale clones.</summary>
    public TimeSpan FingerprintCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Peers whose uid may connect besides root and the daemon's own uid; empty by default.</summary>
    public IReadOnlyList<uint> AllowedUids { get; init; } = [];

    /// <summary>The metrics socket next to the gRPC one: factory.sock -> factory-metrics.sock.</summary>
    public static string DefaultMetricsSocket(string socketPath) =>
        Path.Combine(Path.GetDirectoryName(socketPath) ?? "/", Path.GetFileNameWithoutExtension(socketPath) + "-metrics.sock");
}
