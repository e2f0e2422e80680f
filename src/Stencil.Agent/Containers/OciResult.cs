namespace Stencil.Agent.Containers;

/// <summary>What a successful runtime command printed on stdout (only `state` prints anything useful).</summary>
internal sealed record OciResult(string Stdout);
