using Stencil.Oci;
using Stencil.Runtime;

namespace Stencil.Shim.TestHost;

/// <summary>The test host's pod runtime factory: a simulated pod per daemon.</summary>
internal sealed class SimulatedRuntimeFactory : IPodRuntimeFactory
{
    public IPodRuntime Create(PodRuntimeContext context)
    {
        context.Log.Warning("test host: running a SIMULATED pod runtime (no VM, no container runs)");
        // Lets a test make the daemon's start-up fail, to see `start` report it.
        if (SpecJson.ParseSpec(File.ReadAllBytes(Path.Combine(context.Bundle, "config.json")), "config.json").Annotations?.GetValueOrDefault(SimulatedPodRuntime.FailAnnotation) is { } reason)
            throw StencilException.Unavailable(reason);
        return new SimulatedPodRuntime();
    }
}
