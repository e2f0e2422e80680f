using System.Net.Sockets;
using Stencil.Runtime.Network.Interop;

namespace Stencil.Runtime.Network;

/// <summary>
/// Joins a pod's CNI interface to a tap with tc redirects (Kata's "tcfilter" model), through iproute2.
///
/// Why iproute2 and not raw netlink: attaching happens once per pod and costs a few process starts
/// (milliseconds, measured in the tests), while a netlink codec for links, addresses, routes, qdiscs
/// and u32 + mirred filters (nested TCA_OPTIONS and TCA_ACT attributes) would be several hundred lines
/// of byte layouts to get right. The commands are the ones an operator types to inspect or repair a
/// node, their errors come with iproute2's own explanation, and they are built by pure functions
/// (<see cref="TcRedirectCommands"/>). The runner is a seam, so netlink can replace it if pod start
/// ever needs the milliseconds. setns and TUNSETIFF have no command and are P/Invoke (Interop/).
/// </summary>
public sealed class TcRedirectNetwork : IPodNetwork
{
    /// <summary>Kata names its tap tap0_kata; one pod interface, one tap.</summary>
    public const string DefaultTapName = "tap0_stencil";

    private readonly NetworkTools _tools;
    private readonly ICommandRunner _runner;
    private readonly ILog _log;
    private readonly string _tapName;

    public TcRedirectNetwork(NetworkTools? tools = null, ILog? log = null, string tapName = DefaultTapName)
        : this(tools ?? NetworkTools.Find(), ProcessCommandRunner.Instance, log ?? NullLog.Instance, tapName)
    {
    }

    internal TcRedirectNetwork(NetworkTools tools, ICommandRunner runner, ILog log, string tapName)
    {
        TapDevice.ValidateName(tapName);
        _tools = tools;
        _runner = runner;
        _log = log;
        _tapName = tapName;
    }

    public async Task<TapAttachment> AttachAsync(string networkNamespacePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(networkNamespacePath);
        if (!File.Exists(networkNamespacePath))
            throw StencilException.NotFound($"network namespace {networkNamespacePath} does not exist");

        var links = IpJson.ParseLinks(await RunAsync(TcRedirectCommands.ShowLinks(_tools, networkNamespacePath), "listing the pod's interfaces", cancellationToken).ConfigureAwait(false));
        if (links.Any(l => l.Name == _tapName))
            throw StencilException.AlreadyExists($"network namespace {networkNamespacePath} already has a device {_tapName}: the pod's network is attached already");
        var link = ChooseInterface(links, _tapName, networkNamespacePath);
        var routes = new List<PodRoute>();
        foreach (var ipv6 in new[] { false, true })
        {
            var json = await RunAsync(TcRedirectCommands.ShowRoutes(_tools, networkNamespacePath, ipv6), "listing the pod's routes", cancellationToken).ConfigureAwait(false);
            routes.AddRange(IpJson.ParseRoutes(json, ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, link.Name));
        }
        var podInterface = new PodInterface(link.Name, link.MacAddress, link.Mtu, link.Addresses, routes);

        var tapFd = await TapDevice.CreateInNamespaceAsync(networkNamespacePath, _tapName).ConfigureAwait(false);
        var vethIngressAdded = false;
        try
        {
            await RunAsync(TcRedirectCommands.SetTapUp(_tools, networkNamespacePath, _tapName, link.Mtu), "bringing the tap up", cancellationToken).ConfigureAwait(false);
            await RunAsync(TcRedirectCommands.AddIngressQdisc(_tools, networkNamespacePath, link.Name), $"adding an ingress qdisc to {link.Name}", cancellationToken).ConfigureAwait(false);
            vethIngressAdded = true;
            await RunAsync(TcRedirectCommands.AddRedirect(_tools, networkNamespacePath, link.Name, _tapName), $"redirecting {link.Name} to {_tapName}", cancellationToken).ConfigureAwait(false);
            await RunAsync(TcRedirectCommands.AddIngressQdisc(_tools, networkNamespacePath, _tapName), $"adding an ingress qdisc to {_tapName}", cancellationToken).ConfigureAwait(false);
            await RunAsync(TcRedirectCommands.AddRedirect(_tools, networkNamespacePath, _tapName, link.Name), $"redirecting {_tapName} to {link.Name}", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Closing the only fd removes the tap with its qdisc; the veth's qdisc must go explicitly.
            tapFd.Dispose();
            if (vethIngressAdded)
                await RemoveIngressAsync(networkNamespacePath, link.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        _log.Info($"pod network attached: {podInterface} <-> {_tapName} in {networkNamespacePath}");
        return new TapAttachment(networkNamespacePath, _tapName, podInterface, tapFd);
    }

    public async Task DetachAsync(TapAttachment attachment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        attachment.Dispose();
        var netns = attachment.NetworkNamespacePath;
        if (!File.Exists(netns))
            return; // CNI deleted the namespace, and everything in it went with it.
        await RemoveIngressAsync(netns, attachment.Interface.Name, cancellationToken).ConfigureAwait(false);
        // The tap outlives our fd while QEMU still holds its copy (NIC not yet removed, VM not yet gone).
        var links = IpJson.ParseLinks(await RunAsync(TcRedirectCommands.ShowLinks(_tools, netns), "listing the pod's interfaces", cancellationToken).ConfigureAwait(false));
        if (links.Any(l => l.Name == attachment.TapName))
        {
            var command = TcRedirectCommands.DeleteLink(_tools, netns, attachment.TapName);
            var delete = await _runner.RunAsync(command.FileName, command.Arguments, cancellationToken).ConfigureAwait(false);
            // It may vanish between the listing and the delete (QEMU exiting): only a tap still there is an error.
            if (delete.ExitCode != 0 && await LinkExistsAsync(netns, attachment.TapName, cancellationToken).ConfigureAwait(false))
                delete.EnsureSuccess($"removing {attachment.TapName}");
        }
        _log.Info($"pod network detached: {attachment.Interface.Name} <-> {attachment.TapName} in {netns}");
    }

    /// <summary>
    /// The pod's interface: CNI names it eth0 by default (containerd passes IFNAME=eth0); otherwise the
    /// one Ethernet device that is not loopback and not a tap. Several candidates without an eth0 is an
    /// error naming them: guessing would give the guest another pod's address.
    /// </summary>
    internal static LinkState ChooseInterface(IReadOnlyList<LinkState> links, string tapName, string netns)
    {
        var candidates = links.Where(l => l.LinkType == "ether" && l.Name != tapName && l.Kind != "tun").ToList();
        if (candidates.FirstOrDefault(l => l.Name == "eth0") is { } eth0)
            return eth0;
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw StencilException.NotFound(
                $"network namespace {netns} has no Ethernet interface for the pod (links: {string.Join(", ", links.Select(l => $"{l.Name} ({l.Kind ?? l.LinkType})"))}); did CNI run?"),
            _ => throw StencilException.FailedPrecondition(
                $"network namespace {netns} has several candidate interfaces and none named eth0: {string.Join(", ", candidates.Select(l => l.Name))}"),
        };
    }

    /// <summary>Deletes the device's ingress qdisc (and its filters). A device or qdisc already gone is fine.</summary>
    private async Task RemoveIngressAsync(string netns, string device, CancellationToken cancellationToken)
    {
        var command = TcRedirectCommands.DeleteIngressQdisc(_tools, netns, device);
        var result = await _runner.RunAsync(command.FileName, command.Arguments, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode == 0 || !File.Exists(netns) || !await LinkExistsAsync(netns, device, cancellationToken).ConfigureAwait(false))
            return;
        var show = TcRedirectCommands.ShowQdiscs(_tools, netns, device);
        var qdiscs = await RunAsync(show, $"listing the qdiscs of {device}", cancellationToken).ConfigureAwait(false);
        if (IpJson.HasIngressQdisc(qdiscs))
            result.EnsureSuccess($"removing the ingress qdisc of {device}");
    }

    private async Task<bool> LinkExistsAsync(string netns, string device, CancellationToken cancellationToken)
    {
        var json = await RunAsync(TcRedirectCommands.ShowLinks(_tools, netns), "listing the pod's interfaces", cancellationToken).ConfigureAwait(false);
        return IpJson.ParseLinks(json).Any(l => l.Name == device);
    }

    private async Task<string> RunAsync(NetworkCommand command, string what, CancellationToken cancellationToken)
    {
        var result = await _runner.RunAsync(command.FileName, command.Arguments, cancellationToken).ConfigureAwait(false);
        return result.EnsureSuccess(what);
    }
}
