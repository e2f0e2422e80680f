using Stencil.Agent.Client;

namespace Stencil.Runtime.Network;

/// <summary>Guest connections through the agent's PortForward* calls.</summary>
internal sealed class AgentGuestPortDialer(IAgentClient agent) : IGuestPortDialer
{
    public async Task<IGuestConnection> DialAsync(int port, CancellationToken cancellationToken)
    {
        var id = await agent.PortForwardOpenAsync(port, cancellationToken).ConfigureAwait(false);
        return new AgentGuestConnection(agent, id);
    }
}
