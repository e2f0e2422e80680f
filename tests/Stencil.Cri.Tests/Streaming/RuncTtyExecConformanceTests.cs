using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(CriCollection.Name)]
public sealed class RuncTtyExecConformanceTests(CriContainerdFixture fixture, ITestOutputHelper output)
    : TtyExecConformanceTests(fixture, "runc", output);
