using Stencil.Runtime;

namespace Stencil.Shim;

/// <summary>
/// Creates the one IPodRuntime of a shim daemon. Program plugs in the VM runtime; tests plug in fakes.
/// Called once, before the daemon serves; it should be quick (the VM starts at the first Create), and
/// a StencilException it throws makes `start` fail with that message.
/// </summary>
public interface IPodRuntimeFactory
{
    IPodRuntime Create(PodRuntimeContext context);
}
