using Stencil.Runtime.Network;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

// The pod's network on the host: the port-forward relay, client-made networks, taps released.
internal sealed partial class PodSandbox
{
    /// <summary>nft, which the port-forward relay needs; without it every CRI PortForward to the pod would
    /// fail, so the pod is refused (before its VM starts) with the reason.</summary>
    private string FindNftForPortForwarding()
    {
        try
        {
            return PortForwardRelay.FindNft();
        }
        catch (StencilException ex)
        {
            throw StencilException.FailedPrecondition($"port forwarding for pod {_options.PodId} could not be set up: {ex.Message}");
        }
    }

    /// <summary>
    /// The relay that takes containerd's PortForward dials in the pod's namespace to the guest. Any
    /// failure other than a missing nft is logged and the pod runs without port forwarding.
    /// </summary>
    private async Task<PortForwardRelay?> StartPortForwardAsync(IPodVm vm, string networkNamespace, string nft, CancellationToken cancellationToken)
    {
        try
        {
            return await PortForwardRelay.StartAsync(networkNamespace, vm.Agent, nft, _log, $"pod {_options.PodId}", cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _log.Error($"port forwarding for pod {_options.PodId} could not be set up: {ex.Message}; the pod runs without it");
            return null;
        }
    }

    /// <summary>Closes the relay's listener and connections and removes its rule (before the VM goes, so guest streams close cleanly).</summary>
    private async Task StopPortForwardAsync()
    {
        if (_portForward is not { } relay)
            return;
        _portForward = null;
        await relay.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Gives the VM the interfaces that OCI hooks or `ctr run --cni` put into the namespace the holder made
    /// (nerdctl's network hook, CNI run by the client on /proc/PID/ns/net), with the same tap and tc
    /// redirect as a CRI pod's: called before a container starts. Nothing to do when the namespace is not
    /// the holder's own, the VM has its network already, or no Ethernet interface is there (a plain `ctr run`).
    /// </summary>
    public async Task ConnectClientNetworkAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_holder is not { OwnsNetworkNamespace: true } holder || _podNetwork is not null || Lifecycle.Vm is not { } vm)
                return;
            _network ??= new TcRedirectNetwork(log: _log);
            TapAttachment attachment;
            try
            {
                attachment = await _network.AttachAsync(holder.NetworkNamespacePath, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex) when (ex.Kind == ErrorKind.NotFound)
            {
                return; // no interface: the VM keeps no network, as a plain `ctr run` container has only lo
            }
            _podNetwork = attachment;
            await PodNetworkSetup.ConnectAsync(vm, attachment, cancellationToken).ConfigureAwait(false);
            _log.Info($"pod {_options.PodId}: network of {holder.NetworkNamespacePath} (made by the client) in the VM ({attachment.Interface})");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Removes a tap whose attach was still running when the VM's start failed (if the attach succeeded).</summary>
    private async Task DetachAfterFailureAsync(Task<TapAttachment>? tap)
    {
        if (tap is null || _network is null)
            return;
        try
        {
            var attachment = await tap.ConfigureAwait(false);
            await _network.DetachAsync(attachment, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StencilException or OperationCanceledException)
        {
            _log.Debug($"pod {_options.PodId}: the network was not attached: {ex.Message}");
        }
    }

    /// <summary>Removes the tap and the filters once QEMU is gone (it held the tap); CNI removes the veth later.</summary>
    private async Task DetachNetworkAsync()
    {
        if (_podNetwork is not { } attachment || _network is null)
            return;
        _podNetwork = null;
        try
        {
            await _network.DetachAsync(attachment, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StencilException ex)
        {
            _log.Error($"pod {_options.PodId}: detaching the network of {attachment.NetworkNamespacePath} failed: {ex.Message}");
        }
    }
}
