using Stencil.TestSupport;

namespace Stencil.Containerd.Tests;

/// <summary>One private containerd shared by the tests of a class.</summary>
public sealed class ContainerdFixture : IAsyncLifetime
{
    private PrivateContainerd? _containerd;

    public PrivateContainerd Containerd => _containerd ?? throw new InvalidOperationException("containerd not started");

    public async Task InitializeAsync() => _containerd = await PrivateContainerd.StartAsync();

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
            await _containerd.DisposeAsync();
    }
}
