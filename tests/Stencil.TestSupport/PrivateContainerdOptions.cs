namespace Stencil.TestSupport;

/// <summary>What a test adds to <see cref="PrivateContainerd"/>'s generated config.toml and environment.</summary>
public sealed record PrivateContainerdOptions
{
    /// <summary>TOML appended at the end of config.toml, written with config version 2 table names
    /// (renamed for containerd 2.x, see <see cref="PrivateContainerd.ToVersion3Tables"/>). It may only open new tables, e.g.
    /// <c>[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil]</c> with
    /// <c>runtime_type = "io.containerd.stencil.v2"</c>.</summary>
    public string? ExtraToml { get; init; }

    /// <summary>The CRI plugin's pause image (version 2: sandbox_image; version 3: pinned_images.sandbox).</summary>
    public string? SandboxImage { get; init; }

    /// <summary>Added to containerd's environment (e.g. PATH with build/bin first, where it finds a shim).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
