namespace Stencil.Runtime.Configuration;

/// <summary>
/// One key of configuration.toml: where it lives and how a TOML value is checked and applied.
/// <see cref="Apply"/> receives the value and its printable place ("file: section.key = value") for errors.
/// </summary>
/// <param name="Read">The key's effective value in a configuration (string, long or bool, as TOML has it).</param>
internal sealed record ConfigKey(string Section, string Name, Func<StencilConfig, object, string, StencilConfig> Apply, Func<StencilConfig, object> Read)
{
    public string FullName => $"{Section}.{Name}";
}
