namespace Stencil.Cri.Tests;

/// <summary>Every test that talks CRI shares one private containerd (its start and the image imports
/// cost more than most tests); tests in one collection run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class CriCollection : ICollectionFixture<CriContainerdFixture>
{
    public const string Name = "private containerd with CRI";
}
