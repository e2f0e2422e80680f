namespace Stencil.Agent.Client;

/// <param name="HardwareAddress">MAC ("52:54:00:12:34:56"). UpdateInterface finds the device by it when
/// set (the host knows the MAC it hot-plugged, not the guest's name), and renames it to Name if given.</param>
/// <param name="Mtu">0: leave as is.</param>
/// <param name="Addresses">Replace the device's addresses.</param>
/// <param name="Up">true: bring the link up; false: leave it as it is.</param>
public sealed record NetworkInterface(string Name, string HardwareAddress, int Mtu, IReadOnlyList<InterfaceAddress> Addresses, bool Up);
