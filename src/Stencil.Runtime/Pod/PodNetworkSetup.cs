using Stencil.Agent.Client;
using Stencil.Runtime.Network;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Gives a pod's VM the pod's network (Kata's tcfilter model): the CNI interface in the pod's network
/// namespace is joined to a tap, the tap is hot-plugged as a virtio-net NIC with the interface's MAC
/// (frames redirected from the veth are addressed to it, and the pod keeps the identity CNI gave it),
/// and the agent gives the guest NIC the interface's name, addresses, MTU and routes.
/// </summary>
internal static class PodNetworkSetup
{
    /// <summary>
    /// Hot-plugs an attached tap into the VM and configures the guest NIC; the caller detaches the tap on
    /// failure. Returns how long each step took (plug, guest nic, routes), for the start's debug line.
    /// </summary>
    public static async Task<StepTimes> ConnectAsync(IPodVm vm, TapAttachment attachment, CancellationToken cancellationToken)
    {
        var pod = attachment.Interface;
        var steps = new StepTimes();
        await vm.AddNetworkAsync(attachment.TapFd, pod.MacAddress, cancellationToken).ConfigureAwait(false);
        steps.Mark("plug");
        await vm.Agent.UpdateInterfaceAsync(GuestInterface(pod), cancellationToken).ConfigureAwait(false);
        steps.Mark("guest nic");
        await vm.Agent.UpdateRoutesAsync(GuestRoutes(pod), cancellationToken).ConfigureAwait(false);
        steps.Mark("routes");
        // QEMU holds its own copy of the tap now; ours would only keep the tap alive after QEMU exits.
        attachment.TapFd.Dispose();
        return steps;
    }

    /// <summary>The guest NIC as the agent must set it: found by MAC, named like the pod's interface, up.</summary>
    internal static NetworkInterface GuestInterface(PodInterface pod) =>
        new(pod.Name, pod.MacAddress, pod.Mtu,
            [.. pod.Addresses.Select(a => new Stencil.Agent.Client.InterfaceAddress(a.Address, a.PrefixLength))], Up: true);

    /// <summary>The pod's routes on the guest NIC (the kernel adds the subnet routes of the addresses itself).</summary>
    internal static IReadOnlyList<NetworkRoute> GuestRoutes(PodInterface pod) =>
        [.. pod.Routes.Select(r => new NetworkRoute(
            r.Destination,
            r.Gateway?.ToString(),
            pod.Name,
            r.Source?.ToString(),
            r.Scope.Length == 0 ? null : r.Scope))];
}
