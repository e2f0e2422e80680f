namespace Stencil.Runtime.Network;

/// <summary>Opens TCP connections to ports inside the pod's VM (the agent, or a test's stand-in).</summary>
internal interface IGuestPortDialer
{
    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> in the guest; nothing listening there is a
    /// StencilException (Unavailable) that names the port.</summary>
    Task<IGuestConnection> DialAsync(int port, CancellationToken cancellationToken);
}
