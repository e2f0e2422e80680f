namespace Stencil.Agent.Client;

public sealed record AgentVersionInfo(string AgentVersion, uint ApiVersion);
