namespace Stencil.Runtime.Configuration;

/// <param name="Source">The file it was read from; null for the built-in defaults.</param>
public sealed record LoadedConfig(StencilConfig Config, string? Source);
