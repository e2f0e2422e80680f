using System.Net;
using System.Net.Sockets;

namespace Stencil.Runtime.Network;

/// <summary>An address on an interface with its prefix length ("10.88.0.5/16"): the host bits stay,
/// unlike a network prefix (<see cref="IPNetwork"/> would refuse them).</summary>
public sealed record InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    public override string ToString() => $"{Address}/{PrefixLength}";
}
