namespace Stencil.Shim.Flags;

/// <summary>The shim's command line, as containerd's Go shims define it (plus -config for serve).</summary>
internal sealed record ShimFlags
{
    public ShimAction Action { get; init; }

    /// <summary>-namespace: the containerd namespace owning the task ("default", "k8s.io").</summary>
    public string Namespace { get; init; } = "";

    /// <summary>-address: containerd's gRPC socket (part of the shim socket's name).</summary>
    public string Address { get; init; } = "";

    /// <summary>-publish-binary: containerd's binary (Go shims publish events with it; Stencil uses TTRPC_ADDRESS).</summary>
    public string PublishBinary { get; init; } = "containerd";

    /// <summary>-id: the container (task) id.</summary>
    public string Id { get; init; } = "";

    public bool Debug { get; init; }

    /// <summary>-bundle: the bundle folder; empty: the working directory.</summary>
    public string Bundle { get; init; } = "";

    /// <summary>-socket: (serve) the socket path the daemon serves, removed at exit.</summary>
    public string Socket { get; init; } = "";

    /// <summary>-config: (serve) the configuration file start chose; empty: built-in defaults.</summary>
    public string Config { get; init; } = "";
}
