using System.Net.Sockets;
using Stencil.Runtime.Network.Interop;

namespace Stencil.Runtime.Network;

/// <summary>
/// Joins a pod's CNI interface to a tap with tc redirects (Kata's "tcfilter" model), through iproute2.
///
/// Why iproute2 and not raw netlink: attaching happens once per pod and costs two rounds of process
/// starts, each ~13 ms on this machine kind (the three queries side by side; after the tap, `ip link
/// set` and one `tc -batch` of the four tc steps side by side), while a netlink codec for links, addresses, routes, qdiscs
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

        // The three queries are independent: run side by side (a pod's start waits for them).
        var showLinks = RunAsync(TcRedirectCommands.ShowLinks(_tools, networkNamespacePath), "listing the pod's interfaces", cancellationToken);
        var showRoutes4 = RunAsync(TcRedirectCommands.ShowRoutes(_tools, networkNamespacePath, ipv6: false), "listing the pod's routes", cancellationToken);
        var showRoutes6 = RunAsync(TcRedirectCommands.ShowRoutes(_tools, networkNamespacePath, ipv6: true), "listing the pod's routes", cancellationToken);
        await Task.WhenAll(showLinks, showRoutes4, showRoutes6).ConfigureAwait(false);
        var links = IpJson.ParseLinks(await showLinks.ConfigureAwait(false));
        if (links.Any(l => l.Name == _tapName))
            throw StencilException.AlreadyExists($"network namespace {networkNamespacePath} already has a device {_tapName}: the pod's network is attached already");
        var link = ChooseInterface(links, _tapName, networkNamespacePath);
        var routes = new List<PodRoute>();
        routes.AddRange(IpJson.ParseRoutes(await showRoutes4.ConfigureAwait(false), AddressFamily.InterNetwork, link.Name));
        routes.AddRange(IpJson.ParseRoutes(await showRoutes6.ConfigureAwait(false), AddressFamily.InterNetworkV6, link.Name));
        var podInterface = new PodInterface(link.Name, link.MacAddress, link.Mtu, link.Addresses, routes);

        var tapFd = await TapDevice.CreateInNamespaceAsync(networkNamespacePath, _tapName).ConfigureAwait(false);
        var steps = TcRedirectCommands.JoinSteps(link.Name, _tapName);
        var batch = TcRedirectCommands.TcBatch(_tools, networkNamespacePath);
        var join = _runner.RunAsync(batch.FileName, batch.Arguments, string.Concat(steps.Select(step => step.Line + "\n")), cancellationToken);
        try
        {
            // The tap's MTU and state and the tc plumbing touch different things: side by side too.
            var up = RunAsync(TcRedirectCommands.SetTapUp(_tools, networkNamespacePath, _tapName, link.Mtu), "bringing the tap up", cancellationToken);
            await Task.WhenAll(up, join).ConfigureAwait(false);
            EnsureJoined(await join.ConfigureAwait(false), steps, $"joining {link.Name} and {_tapName} with tc redirects");
        }
        catch
        {
            // Closing the only fd removes the tap with its qdisc; the veth's qdisc must go explicitly,
            // when the batch got past its first line (an ingress qdisc somebody else had put there is not ours).
            tapFd.Dispose();
            if (join.IsCompletedSuccessfully && (join.Result.ExitCode == 0 || TcRedirectCommands.FailedBatchLine(join.Result.Stderr) is > 1))
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

    /// <summary>A failed tc batch is an error naming the step tc stopped at, as that step's own command would.</summary>
    private static void EnsureJoined(CommandOutput output, IReadOnlyList<(string Line, string What)> steps, string what)
    {
        if (output.ExitCode == 0)
            return;
        if (TcRedirectCommands.FailedBatchLine(output.Stderr) is int n && n >= 1 && n <= steps.Count)
            (output, what) = (output with { CommandLine = $"{output.CommandLine} <<< '{steps[n - 1].Line}'" }, steps[n - 1].What);
        output.EnsureSuccess(what);
    }

    private async Task<string> RunAsync(NetworkCommand command, string what, CancellationToken cancellationToken)
    {
        var result = await _runner.RunAsync(command.FileName, command.Arguments, cancellationToken).ConfigureAwait(false);
        return result.EnsureSuccess(what);
    }
}
