using System.Runtime.InteropServices;

namespace Stencil.Hypervisor;

/// <summary>
/// A virtio-net NIC to hot-plug. Tap: an open tap fd (typically opened inside the pod's network
/// namespace) handed to QEMU over QMP; the caller keeps ownership of its handle and may close it
/// once the NIC is added. User: QEMU's user-mode network (slirp), for tests and debugging.
/// </summary>
public sealed record NetworkSpec
{
    private NetworkSpec(string macAddress, SafeHandle? tapFd)
    {
        MacAddress = macAddress;
        TapFd = tapFd;
    }

    /// <summary>"52:54:00:12:34:56".</summary>
    public string MacAddress { get; }

    /// <summary>The tap's fd; null for user-mode networking.</summary>
    public SafeHandle? TapFd { get; }

    public static NetworkSpec Tap(SafeHandle tapFd, string macAddress)
    {
        ArgumentNullException.ThrowIfNull(tapFd);
        return new NetworkSpec(macAddress, tapFd);
    }

    public static NetworkSpec User(string macAddress) => new(macAddress, null);
}
