using Microsoft.Win32.SafeHandles;

namespace Stencil.Runtime.Network;

/// <summary>
/// A pod's interface joined to a tap device in the pod's network namespace: every frame arriving on
/// the interface leaves through the tap (to QEMU) and every frame QEMU writes to the tap leaves
/// through the interface. <see cref="TapFd"/> is the tap's queue, opened with IFF_TAP | IFF_NO_PI |
/// IFF_VNET_HDR (single queue), ready for QMP getfd + netdev_add tap,fd=NAME. The tap is not
/// persistent: it exists while an fd to it is open (this one, then QEMU's copy), so a crashed shim
/// cannot leak it. Disposing closes this fd only; <see cref="IPodNetwork.DetachAsync"/> undoes the rest.
/// </summary>
public sealed class TapAttachment : IDisposable
{
    internal TapAttachment(string networkNamespacePath, string tapName, PodInterface podInterface, SafeFileHandle tapFd)
    {
        NetworkNamespacePath = networkNamespacePath;
        TapName = tapName;
        Interface = podInterface;
        TapFd = tapFd;
    }

    public string NetworkNamespacePath { get; }

    /// <summary>The tap's name inside the pod's network namespace.</summary>
    public string TapName { get; }

    /// <summary>The pod's interface (CNI's veth) and what the guest's NIC needs from it.</summary>
    public PodInterface Interface { get; }

    public SafeFileHandle TapFd { get; }

    public void Dispose() => TapFd.Dispose();
}
