using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>The namespace conformance tests with the stencil handler: the same answers as runc (the
/// shim asks the agent to join the sandbox container's IPC, UTS and, when shared, PID namespaces). The
/// sandbox container is the agent's namespace holder (sandbox_container = "holder"), so it is the pod's PID 1.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    protected override string SandboxProcess => "stencil-agent --ns-init";
}

/// <summary>The same with the pause image run by crun in the guest (sandbox_container = "runtime"): its process is PID 1.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilPauseRuntimeNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.PauseRuntimeHandler, output);

/// <summary>The namespace tests through containerd 2.x's sandbox API: no pause container, the agent's
/// namespace holder is the pod's PID 1.</summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilSandboxNamespaceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : NamespaceConformanceTests(fixture, StencilCriFixture.SandboxHandler, output)
{
    protected override string SandboxProcess => "stencil-agent --ns-init";
}
