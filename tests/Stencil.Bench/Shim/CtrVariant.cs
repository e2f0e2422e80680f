namespace Stencil.Bench.Shim;

/// <summary>
/// One way of running `ctr run`: a runtime and, for Stencil, the configuration.toml handed to the
/// shim with --runtime-config-path (so every variant shares one containerd).
/// </summary>
/// <param name="Key">Short name used in container ids ("tpl" gives tpl-3).</param>
/// <param name="Label">The table's row name.</param>
/// <param name="ConfigPath">Stencil's configuration file; null for runc.</param>
/// <param name="ExpectedOrigin">The origin the shim should log for its VM ("template"); null for runc.</param>
internal sealed record CtrVariant(string Key, string Label, string? ConfigPath, string? ExpectedOrigin)
{
    public const string RuncRuntime = "io.containerd.runc.v2";
    public const string StencilRuntime = "io.containerd.stencil.v2";

    public bool IsStencil => ConfigPath is not null;

    /// <summary>The `ctr run` arguments before the image: runtime and its config path.</summary>
    public IReadOnlyList<string> RunArguments => ConfigPath is null
        ? ["--runtime", RuncRuntime]
        : ["--runtime", StencilRuntime, "--runtime-config-path", ConfigPath];
}
