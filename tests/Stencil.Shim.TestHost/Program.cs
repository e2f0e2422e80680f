using Stencil.Shim;
using Stencil.Shim.TestHost;

// The product shim's main with the simulated pod runtime instead of the VM one.
return await ShimProgram.RunAsync(args, new SimulatedRuntimeFactory()).ConfigureAwait(false);
