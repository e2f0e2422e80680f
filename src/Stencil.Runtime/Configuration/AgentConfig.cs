namespace Stencil.Runtime.Configuration;

/// <summary>[agent]: the in-guest agent and the link to it.</summary>
public sealed record AgentConfig
{
    /// <summary>Seconds to wait for the agent to answer after a VM starts.</summary>
    public int DialTimeout { get; init; } = 45;

    /// <summary>Debug logging in the agent.</summary>
    public bool EnableDebug { get; init; }
}
