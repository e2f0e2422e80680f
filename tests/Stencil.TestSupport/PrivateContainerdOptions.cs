namespace Stencil.TestSupport;

/// <summary>What a test adds to <see cref="PrivateContainerd"/>'s generated config.toml and environment.</summary>
public sealed record PrivateContainerdOptions
{
    /// <summary>TOML appended at the end of config.toml. It may only open new tables, e.g.
    /// <c>[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil]</c> with
    /// <c>runtime_type = "io.containerd.stencil.v2"</c>.</summary>
    public string? ExtraToml { get; init; }

    /// <summary>Key lines placed inside the <c>[plugins."io.containerd.grpc.v1.cri"]</c> table itself
    /// (e.g. <c>sandbox_image = "docker.io/library/pause:stencil"</c>), which ExtraToml cannot reopen.</summary>
    public string? CriPluginToml { get; init; }

    /// <summary>Added to containerd's environment (e.g. PATH with build/bin first, where it finds a shim).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
