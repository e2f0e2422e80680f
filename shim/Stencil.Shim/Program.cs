using Stencil;
using Stencil.Runtime;
using Stencil.Shim;

// containerd-shim-stencil-v2: everything lives in Stencil.Shim.Service; this file only chooses the
// pod runtime the daemon serves.
return await ShimProgram.RunAsync(args, new VmPodRuntimeFactory()).ConfigureAwait(false);

/// <summary>The VM pod runtime (Stencil.Runtime). Until it is wired in, creating a pod fails clearly.</summary>
internal sealed class VmPodRuntimeFactory : IPodRuntimeFactory
{
    public IPodRuntime Create(PodRuntimeContext context) =>
        throw StencilException.Unimplemented("the VM pod runtime is not wired into this shim yet (Stencil.Runtime)");
}
