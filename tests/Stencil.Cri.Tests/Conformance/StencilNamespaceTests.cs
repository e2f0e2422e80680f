using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The namespace conformance tests with the stencil handler: the same answers as runc (the
/// shim asks the agent to join the sandbox container's IPC, UTS and, when shared, PID namespaces).</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.Handler, output);
