using System.Diagnostics;
using Stencil.Agent.Client;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// The direct way: QEMU boots the kernel with anonymous RAM; the VM is handed over once its agent
/// answers (and it has grown to the request's size). A failure carries the guest console's last lines.
/// </summary>
internal sealed class ColdBooter
{
    private readonly VmFactoryOptions _options;
    private readonly ILog _log;

    public ColdBooter(VmFactoryOptions options, ILog log)
    {
        _options = options;
        _log = log;
    }

    /// <param name="fallbackReason">Why a template clone was not used although templates are on; null when none was tried.</param>
    public async Task<FactoryVm> BootAsync(VmRequest request, Stopwatch clock, string? fallbackReason, CancellationToken cancellationToken)
    {
        var paths = VmInstancePaths.InDirectory(request.RunDirectory);
        var instance = VmInstance.ForColdBoot(paths) with { Name = request.Name, SharedDirectory = request.SharedDirectory };
        var vm = await QemuVm.LaunchAsync(_options.Description, instance, _options.Qemu, cancellationToken).ConfigureAwait(false);
        AgentClient agent;
        try
        {
            agent = await GuestReadiness.WaitForAgentAsync(vm, _options.AgentTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            if (ex is StencilException se)
                throw new StencilException(se.Kind, $"cold boot of {request.Name}: {se.Message}; guest console: {ConsoleTail.Read(paths.ConsoleLog)}", se);
            throw;
        }
        var result = new FactoryVm(vm, agent, VmOrigin.ColdBoot, clock.Elapsed, request.RunDirectory, request.SharedDirectory, null, fallbackReason, null, _log);
        try
        {
            await GuestReadiness.GrowAsync(result, request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return result;
    }
}
