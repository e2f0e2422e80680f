using Stencil.Factory;
using Stencil.Runtime.Configuration;

namespace Stencil.Runtime.Vm;

/// <summary>
/// The pod runtime's VM seam over the VM factory: each pod's VM comes from the pool, a template
/// clone, or a cold boot, as the factory decides (see <see cref="VmFactory.StartVmAsync"/>).
/// </summary>
public sealed class FactoryPodVmProvider : IPodVmProvider, IAsyncDisposable
{
    private readonly bool _ownsFactory;

    public FactoryPodVmProvider(VmFactory factory)
        : this(factory, ownsFactory: false)
    {
    }

    private FactoryPodVmProvider(VmFactory factory, bool ownsFactory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Factory = factory;
        _ownsFactory = ownsFactory;
    }

    /// <summary>A provider over a factory configured from configuration.toml (the factory is disposed with it).</summary>
    public static FactoryPodVmProvider FromConfig(StencilConfig config, ILog log) =>
        new(new VmFactory(FactoryOptionsFromConfig.Create(config), log), ownsFactory: true);

    public VmFactory Factory { get; }

    public async Task<IPodVm> StartAsync(PodVmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var vm = await Factory.StartVmAsync(new VmRequest(request.Name, request.RunDirectory, request.SharedDirectory), cancellationToken).ConfigureAwait(false);
        return new FactoryPodVm(vm, request.SharedDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsFactory)
            await Factory.DisposeAsync().ConfigureAwait(false);
    }
}
