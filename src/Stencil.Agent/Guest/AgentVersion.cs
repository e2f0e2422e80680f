namespace Stencil.Agent.Guest;

internal static class AgentVersion
{
    internal const string Version = "0.1.0";

    /// <summary>Bumped on an incompatible change of agent.proto.</summary>
    internal const uint ApiVersion = 1;
}
