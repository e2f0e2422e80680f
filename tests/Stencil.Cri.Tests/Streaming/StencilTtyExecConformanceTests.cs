using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(StencilCriCollection.Name)]
public sealed class StencilTtyExecConformanceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : TtyExecConformanceTests(fixture, StencilCriFixture.Handler, output);
