namespace Stencil.Factory.Daemon;

/// <summary>What the daemon's request handlers share: the factory, its log, the metrics and the fingerprint last seen.</summary>
internal sealed class DaemonState
{
    private string? _currentFingerprint;

    public DaemonState(VmFactory factory, ILog log)
    {
        Factory = factory;
        Log = log;
    }

    public VmFactory Factory { get; }

    public ILog Log { get; }

    public FactoryMetrics Metrics { get; } = new();

    /// <summary>The QEMU process settings the pool's clones run with (<see cref="VmFactory.ProcessSettings"/>).</summary>
    public string ProcessSettings => Factory.ProcessSettings;

    /// <summary>The template fingerprint of the daemon's configuration at the last check; null before the first.</summary>
    public string? CurrentFingerprint
    {
        get => Volatile.Read(ref _currentFingerprint);
        set => Volatile.Write(ref _currentFingerprint, value);
    }
}
