namespace Stencil.Runtime.Network;

/// <summary>
/// The pod's network interface as CNI left it in the pod's network namespace (normally eth0, one end
/// of a veth pair): what the guest's NIC must look like so the pod keeps its identity. The guest NIC
/// gets <paramref name="MacAddress"/> (frames redirected from the veth are addressed to it), the
/// agent gives it <paramref name="Addresses"/> and <paramref name="Mtu"/> (UpdateInterface), then
/// <paramref name="Routes"/> (UpdateRoutes).
/// </summary>
public sealed record PodInterface(
    string Name,
    string MacAddress,
    int Mtu,
    IReadOnlyList<InterfaceAddress> Addresses,
    IReadOnlyList<PodRoute> Routes)
{
    public override string ToString() =>
        $"{Name} {MacAddress} mtu {Mtu} [{string.Join(", ", Addresses)}] routes [{string.Join("; ", Routes)}]";
}
