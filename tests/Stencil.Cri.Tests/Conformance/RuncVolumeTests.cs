using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The volume conformance tests with the runc handler: the reference answers.</summary>
[Collection(CriCollection.Name)]
public sealed class RuncVolumeTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : VolumeConformanceTests(fixture, "runc", output);
