namespace Stencil.Runtime.Configuration;

/// <summary>[factory]: how a pod gets its VM (template clone, pool, or cold boot).</summary>
public sealed record FactoryConfig
{
    /// <summary>Clone VMs from a saved template instead of booting each one.</summary>
    public bool EnableTemplate { get; init; } = true;

    /// <summary>The tmpfs folder holding templates (guest memory and device state).</summary>
    public string TemplatePath { get; init; } = "/run/stencil/template";

    /// <summary>
    /// Paused clones the node's factory daemon (`stencil factory serve`) keeps ready (Kata's
    /// vm_cache_number); 0: the daemon needs --pool-size. Shims never keep a pool of their own.
    /// </summary>
    public int PoolSize { get; init; } = 2;

    /// <summary>
    /// Milliseconds the factory daemon waits after handing a clone over before it makes the next one:
    /// restoring a clone costs CPU the pod that just took one needs for its own start.
    /// </summary>
    public int PoolRefillDelayMs { get; init; } = 1500;

    /// <summary>
    /// The factory daemon's gRPC socket (Kata's vm_cache_endpoint). A shim asks it for a clone first;
    /// with no daemon there (absent, dead, stale socket) it clones the template itself.
    /// </summary>
    public string DaemonSocket { get; init; } = "/run/stencil/factory.sock";

    /// <summary>Seconds allowed for building a template (boot, agent ready, save).</summary>
    public int TemplateBuildTimeout { get; init; } = 300;
}
