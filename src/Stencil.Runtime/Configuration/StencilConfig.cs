namespace Stencil.Runtime.Configuration;

/// <summary>
/// The whole configuration (Kata-style configuration.toml). Every value has a built-in default, so
/// the runtime works with no file at all; <see cref="ConfigLoader"/> reads a file over the defaults.
/// config/configuration.toml in the repository lists every key at its default (a test holds them equal).
/// </summary>
public sealed record StencilConfig
{
    public HypervisorConfig Hypervisor { get; init; } = new();

    public FactoryConfig Factory { get; init; } = new();

    public AgentConfig Agent { get; init; } = new();

    public RuntimeConfig Runtime { get; init; } = new();

    /// <summary>The built-in defaults.</summary>
    public static StencilConfig Defaults { get; } = new();
}
