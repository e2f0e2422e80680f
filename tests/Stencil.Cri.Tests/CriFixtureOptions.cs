namespace Stencil.Cri.Tests;

/// <summary>What a derived <see cref="CriContainerdFixture"/> changes; the defaults are the runc fixture's.</summary>
public sealed record CriFixtureOptions
{
    /// <summary>The pods' subnet (default <see cref="CriContainerdFixture.Subnet"/>).</summary>
    public string? Subnet { get; init; }

    /// <summary>An address with prefix ("10.88.232.1/24") given to the bridge before containerd starts, so the
    /// host can reach the pods; null: the bridge has no address (the plugin creates it on first use).</summary>
    public string? HostAddress { get; init; }

    /// <summary>More containerd TOML (runtimes of the CRI plugin), appended after the CNI section.</summary>
    public string? ExtraToml { get; init; }

    /// <summary>containerd's environment additions (PATH for a shim, its config variable).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
