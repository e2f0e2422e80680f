namespace Stencil.Shim.Flags;

internal enum ShimAction
{
    /// <summary>containerd asks for a shim: start (or find) the pod's daemon and print its address.</summary>
    Start,

    /// <summary>containerd cleans up after one container's task, the daemon possibly dead.</summary>
    Delete,

    /// <summary>The daemon itself; only `start` runs it (never containerd directly).</summary>
    Serve,

    /// <summary>-v: print the version.</summary>
    Version,

    /// <summary>-h / -help: print the usage.</summary>
    Help,
}
