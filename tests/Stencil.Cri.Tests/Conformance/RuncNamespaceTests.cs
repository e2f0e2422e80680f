using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The namespace conformance tests with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncNamespaceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, "runc", output);
