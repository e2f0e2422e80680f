namespace Stencil.Runtime.Network;

/// <summary>One link of a network namespace as <c>ip -j -d addr show</c> reports it.</summary>
/// <param name="Kind">linkinfo.info_kind: "veth", "tun", "macvlan", ...; null for a plain device (lo).</param>
/// <param name="Addresses">Global-scope addresses only: link-local ones are derived from the MAC again in the guest.</param>
internal sealed record LinkState(string Name, string MacAddress, int Mtu, string LinkType, string? Kind, IReadOnlyList<InterfaceAddress> Addresses);
