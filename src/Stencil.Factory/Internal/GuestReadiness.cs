using Stencil.Agent.Client;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>The last steps every started VM takes before it is handed over, clone or cold boot.</summary>
internal static class GuestReadiness
{
    /// <summary>The agent's first answer; fails at once (with QEMU's reason) if QEMU exits meanwhile.</summary>
    public static async Task<AgentClient> WaitForAgentAsync(QemuVm vm, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        return await AwaitAgentAsync(vm, AgentClient.WaitReadyAsync(vm.Instance.Paths.AgentSocket, timeout, abandon.Token), abandon, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// An agent connection already being made (<paramref name="ready"/>, cancelled through
    /// <paramref name="abandon"/>), awaited as <see cref="WaitForAgentAsync"/> does.
    /// </summary>
    public static async Task<AgentClient> AwaitAgentAsync(QemuVm vm, Task<AgentClient> ready, CancellationTokenSource abandon, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(ready, vm.Exited).ConfigureAwait(false) == ready)
            return await ready.ConfigureAwait(false);
        abandon.Cancel();
        try
        {
            await (await ready.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or StencilException)
        {
        }
        // The next operation on a VM whose QEMU died reports the exit code and QEMU's last output.
        await vm.QueryStatusAsync(cancellationToken).ConfigureAwait(false);
        throw StencilException.Unavailable($"vm {vm.Name}: qemu exited before its agent answered");
    }

    /// <summary>Grows the VM to the request's vCPUs and memory, if it asks for more than the description boots with.</summary>
    public static Task GrowAsync(FactoryVm vm, VmRequest request, CancellationToken cancellationToken)
    {
        if (request.Vcpus is null && request.MemoryMiB is null)
            return Task.CompletedTask;
        var description = vm.Qemu.Description;
        return vm.ResizeAsync(Math.Max(request.Vcpus ?? 0, description.Cpus.Boot), Math.Max(request.MemoryMiB ?? 0, description.Memory.SizeMiB), cancellationToken);
    }
}
