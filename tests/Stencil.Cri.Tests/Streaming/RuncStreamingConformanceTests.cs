using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(CriCollection.Name)]
public sealed class RuncStreamingConformanceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : StreamingConformanceTests(fixture, "runc", output);
