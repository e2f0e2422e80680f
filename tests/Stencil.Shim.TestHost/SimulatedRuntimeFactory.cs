using Stencil.Runtime;
using Stencil.Shim.Start;

namespace Stencil.Shim.Testing;

/// <summary>FOR TESTS ONLY: what the daemon uses instead of the VM runtime when STENCIL_TEST_FAKE_RUNTIME=1.</summary>
internal sealed class SimulatedRuntimeFactory : IPodRuntimeFactory
{
    public IPodRuntime Create(PodRuntimeContext context)
    {
        context.Log.Warning($"{ShimProgram.FakeRuntimeVariable}=1: running a SIMULATED pod runtime (tests only; no VM, no container runs)");
        // Lets a test make the daemon's start-up fail, to see `start` report it.
        if (BundleFiles.ReadSpec(context.Bundle).Annotations?.GetValueOrDefault(SimulatedPodRuntime.FailAnnotation) is { } reason)
            throw StencilException.Unavailable(reason);
        return new SimulatedPodRuntime();
    }
}
