using Stencil.Runtime;
using Stencil.Runtime.Pod;
using Stencil.Runtime.Storage;
using Stencil.Runtime.Vm;
using Stencil.Shim;

/// <summary>
/// The VM pod runtime: Stencil.Runtime's PodRuntime over the VM factory (pool, template clone or
/// cold boot, as configuration.toml's [factory] says). The VM itself starts at the first Create.
/// </summary>
internal sealed class VmPodRuntimeFactory : IPodRuntimeFactory
{
    public IPodRuntime Create(PodRuntimeContext context) =>
        new PodRuntime(
            new PodRuntimeOptions(context.Namespace, context.PodId, context.Paths)
            {
                BaseVcpus = context.Config.Hypervisor.DefaultVcpus,
                BaseMemoryMiB = context.Config.Hypervisor.DefaultMemory,
                ShimStartedAt = context.ShimStartedAt,
                StartsDirectory = context.Paths.StartsDir,
                SandboxCgroupOnly = context.Config.Runtime.SandboxCgroupOnly,
                HoldSandboxContainer = context.Config.Runtime.SandboxContainer == "holder",
                CgroupMemoryOverheadMiB = context.Config.Runtime.SandboxCgroupMemoryOverheadMiB,
                SharedFolder = context.Config.Hypervisor.SharedFs != Stencil.Runtime.Configuration.HypervisorConfig.SharedFsNone,
                RootfsImageMiB = context.Config.Hypervisor.RootfsImageMiB,
                CheckpointFullMemory = context.Config.Runtime.CheckpointMemory == "full",
            },
            FactoryPodVmProvider.FromConfig(context.Config, context.Log),
            new LinuxMounter(),
            context.Log);
}
