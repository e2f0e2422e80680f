namespace Stencil.Agent.Tests.Vm;

/// <summary>The test classes that share one booted guest.</summary>
[CollectionDefinition(Name)]
public sealed class GuestVmCollection : ICollectionFixture<GuestVmFixture>
{
    public const string Name = "guest vm";
}
