namespace Stencil.Agent.Client;

/// <param name="Destination">"default" or "10.0.0.0/24".</param>
/// <param name="Scope">null, "link", "host", "site" or "global".</param>
public sealed record NetworkRoute(string Destination, string? Gateway = null, string? Device = null, string? Source = null, string? Scope = null);
