using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(StencilCriCollection.Name)]
public sealed class StencilStreamingConformanceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : StreamingConformanceTests(fixture, StencilCriFixture.Handler, output);
