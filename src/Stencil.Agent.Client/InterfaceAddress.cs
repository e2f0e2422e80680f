using System.Net;

namespace Stencil.Agent.Client;

/// <summary>An address on an interface with its prefix ("10.0.0.2/24"); unlike IPNetwork, host bits may be set.</summary>
public sealed record InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}
