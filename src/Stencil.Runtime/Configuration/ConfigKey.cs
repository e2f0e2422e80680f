namespace Stencil.Runtime.Configuration;

/// <summary>
/// One key of configuration.toml: where it lives and how a TOML value is checked and applied.
/// <see cref="Apply"/> receives the value and its printable place ("file: section.key = value") for errors.
/// </summary>
/// <param name="Read">The key's effective value in a configuration (string, int or bool; ConfigLoader.EffectiveValues gives ints as long, as TOML has them).</param>
internal sealed record ConfigKey(string Section, string Name, Func<StencilConfig, object, string, StencilConfig> Apply, Func<StencilConfig, object> Read)
{
    public string FullName => $"{Section}.{Name}";
}
