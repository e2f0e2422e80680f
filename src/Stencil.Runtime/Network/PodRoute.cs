using System.Net;
using System.Net.Sockets;

namespace Stencil.Runtime.Network;

/// <summary>
/// A route of the pod's interface, as the guest must have it: <paramref name="Destination"/> is
/// "default" or a prefix ("10.88.0.0/16"); <paramref name="Scope"/> is "" (universe), "link" or
/// "host". Routes the kernel makes by itself when an address is added (protocol kernel) are not
/// listed: the guest's kernel makes them too. The device is the guest's NIC, so it is not part of it.
/// </summary>
public sealed record PodRoute(AddressFamily Family, string Destination, IPAddress? Gateway, IPAddress? Source, string Scope)
{
    public bool IsDefault => Destination == "default";

    public override string ToString() =>
        Destination + (Gateway is null ? "" : $" via {Gateway}") + (Source is null ? "" : $" src {Source}") + (Scope.Length == 0 ? "" : $" scope {Scope}");
}
