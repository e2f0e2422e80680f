using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The namespace conformance tests with the stencil handler: the same answers as runc (the
/// shim asks the agent to join the sandbox container's IPC, UTS and, when shared, PID namespaces).</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.Handler, output);

/// <summary>The namespace tests through containerd 2.x's sandbox API: no pause container, the agent's
/// namespace holder is the pod's PID 1.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilSandboxNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.SandboxHandler, output)
{
    protected override string SandboxProcess => "stencil-agent --ns-init";
}
