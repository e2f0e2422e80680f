namespace Stencil.Factory.Tests.Vm;

/// <summary>The test classes that share the run's one template.</summary>
[CollectionDefinition(Name)]
public sealed class TemplateCollection : ICollectionFixture<TemplateFixture>
{
    public const string Name = "template";
}
