using Stencil.Agent.Client;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>A paused clone waiting in the pool, with its agent connection open and its own folder (sockets, 9p export).</summary>
internal sealed record PooledClone(QemuVm Vm, Template Template, AgentClient Agent, string Directory, string SharedDirectory)
{
    public async ValueTask DiscardAsync(ILog log)
    {
        await Agent.DisposeAsync().ConfigureAwait(false);
        await Vm.DisposeAsync().ConfigureAwait(false);
        FactoryVm.RemoveOwnedDirectory(Directory, SharedDirectory, log);
    }
}
