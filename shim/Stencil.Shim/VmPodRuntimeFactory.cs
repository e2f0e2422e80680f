using Stencil;
using Stencil.Runtime;
using Stencil.Shim;

/// <summary>
/// The VM pod runtime (Stencil.Runtime's PodRuntime over the VM factory). Until the factory's
/// IPodVmProvider is wired in here, the daemon refuses to start, and `start` reports this message.
/// </summary>
internal sealed class VmPodRuntimeFactory : IPodRuntimeFactory
{
    public IPodRuntime Create(PodRuntimeContext context) =>
        throw StencilException.Unimplemented("the VM pod runtime is not wired into this shim yet (Stencil.Runtime)");
}
