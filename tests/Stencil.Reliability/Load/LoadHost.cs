using Stencil.TestSupport;

namespace Stencil.Reliability.Load;

/// <summary>
/// Where a load run happens: a containerd with the Stencil runtime and the busybox image, and the
/// folders its pods may leave something in. <see cref="RunFolder"/> holds the Stencil state, shim sockets
/// and template (StencilConfigFile puts them all there); <see cref="ContainerdFolder"/> holds containerd's
/// root, state and sockets. Every QEMU and shim of the run names one of them on its command line.
/// </summary>
public sealed record LoadHost(
    Func<string[], Task<CommandResult>> Ctr,
    string RunFolder,
    string ContainerdFolder,
    string Runtime = "io.containerd.stencil.v2",
    string Image = BusyboxImage.Reference);
