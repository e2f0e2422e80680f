namespace Stencil.Runtime.Configuration;

/// <summary>
/// One key of configuration.toml: where it lives and how a TOML value is checked and applied.
/// <see cref="Apply"/> receives the value and its printable place ("file: section.key = value") for errors.
/// </summary>
internal sealed record ConfigKey(string Section, string Name, Func<StencilConfig, object, string, StencilConfig> Apply)
{
    public string FullName => $"{Section}.{Name}";
}
