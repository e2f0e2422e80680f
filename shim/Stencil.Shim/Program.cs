using Stencil.Shim;

// containerd-shim-stencil-v2: everything lives in Stencil.Shim.Service; this file only chooses the
// pod runtime the daemon serves.
return await ShimProgram.RunAsync(args, new VmPodRuntimeFactory()).ConfigureAwait(false);
