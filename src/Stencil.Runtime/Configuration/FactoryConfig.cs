namespace Stencil.Runtime.Configuration;

/// <summary>[factory]: how a pod gets its VM (template clone, pool, or cold boot).</summary>
public sealed record FactoryConfig
{
    /// <summary>Clone VMs from a saved template instead of booting each one.</summary>
    public bool EnableTemplate { get; init; } = true;

    /// <summary>The tmpfs folder holding templates (guest memory and device state).</summary>
    public string TemplatePath { get; init; } = "/run/stencil/template";

    /// <summary>VMs kept started and ready ahead of demand (Kata's vm_cache_number); 0: no pool.</summary>
    public int PoolSize { get; init; }

    /// <summary>Seconds allowed for building a template (boot, agent ready, save).</summary>
    public int TemplateBuildTimeout { get; init; } = 300;
}
