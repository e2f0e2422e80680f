namespace Stencil.Runtime.Network;

/// <summary>The host side of a pod's network: what the runtime asks for, so tests can replace it.</summary>
public interface IPodNetwork
{
    /// <summary>Finds the pod's interface in <paramref name="networkNamespacePath"/> (e.g.
    /// /var/run/netns/cni-...), creates a tap next to it, joins the two, and returns the tap's fd with
    /// the interface's facts.</summary>
    Task<TapAttachment> AttachAsync(string networkNamespacePath, CancellationToken cancellationToken = default);

    /// <summary>Removes what <see cref="AttachAsync"/> added (filters, tap) and closes the fd. Succeeds when
    /// the namespace or the interface is already gone (CNI may have torn it down first).</summary>
    Task DetachAsync(TapAttachment attachment, CancellationToken cancellationToken = default);
}
